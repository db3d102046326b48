"""The Teams app package: `manifest.json` and its two icons, zipped, for upload to Teams.

Wire facts relied on (Teams app manifest schema v1.29, as published): `manifestVersion` is
"1.29"; `id` and `bots[].botId` are GUIDs; a bot's `commandLists` hold at most 12 commands each,
one list per scope; Teams' docs ask for command titles of at most 32 characters and descriptions
of at most 128. Icons: `color` a 192x192 PNG, `outline` a 32x32 PNG that is white on a
transparent background. The package is a zip with these three files at its root.
"""

from __future__ import annotations

import io
import json
import struct
import zipfile
import zlib
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

from bot.commands import USAGE
from bot.urls import PRIVACY_PATH, TERMS_PATH

MANIFEST_VERSION = "1.29"
SCHEMA_URL = (
    "https://developer.microsoft.com/en-us/json-schemas/teams/v1.29/MicrosoftTeams.schema.json"
)
ACCENT = (0x44, 0x64, 0xEE)
MAX_TITLE, MAX_DESCRIPTION, MAX_COMMANDS = 32, 128, 12
PACKAGE_DATE = (2024, 1, 1, 0, 0, 0)
# Twelve entries: commands that belong together share one, so every command of the grammar is
# named (a test keeps this in step with `bot.commands.USAGE`).
COMMANDS: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("help", "Every command, with examples", ("help",)),
    (
        "status",
        "What is connected and what needs attention; company name NAME renames the business",
        ("status", "company"),
    ),
    (
        "connect",
        "connect simplybook | zoom | teams | webhook (disconnect removes; webhook rotate)",
        ("connect", "disconnect", "webhook"),
    ),
    ("enable", "Turn online meetings on (disable turns them off)", ("enable", "disable")),
    (
        "services",
        "List services; service enable NAME | service disable NAME",
        ("services", "service"),
    ),
    (
        "providers",
        "List providers; provider NAME zoom EMAIL | channel #channel | staff @user",
        ("providers", "provider"),
    ),
    ("role", USAGE["role"], ("role",)),
    ("start", "start BOOKING: open a booking's meeting for its client now", ("start",)),
    ("report", USAGE["report"], ("report",)),
    ("audit", "The latest changes to meetbot's set-up", ("audit",)),
    ("digest", USAGE["digest"], ("digest",)),
    (
        "template",
        "template | template provider|client [service NAME | provider NAME] : TEXT",
        ("template",),
    ),
)


def covered_commands() -> set[str]:
    return {name for _, _, names in COMMANDS for name in names}


def build_manifest(*, app_id: str, public_url: str, version: str = "1.0.0") -> dict[str, Any]:
    commands = [{"title": title, "description": text} for title, text, _ in COMMANDS]
    site = public_url.rstrip("/")
    host = urlsplit(site).hostname or ""
    return {
        "$schema": SCHEMA_URL,
        "manifestVersion": MANIFEST_VERSION,
        "version": version,
        "id": app_id,
        "developer": {
            "name": "meetbot",
            "websiteUrl": site,
            "privacyUrl": f"{site}{PRIVACY_PATH}",
            "termsOfUseUrl": f"{site}{TERMS_PATH}",
        },
        "name": {"short": "meetbot", "full": "meetbot: online meetings for bookings"},
        "description": {
            "short": "Online video meetings for SimplyBook.me bookings",
            "full": (
                "meetbot turns SimplyBook.me bookings into Zoom or Teams meetings and posts each "
                "one to its provider's channel, edited in place when the booking changes. Admins "
                "set it up by writing commands to the bot: start with 'connect simplybook', and "
                "'help' lists the rest."
            ),
        },
        "icons": {"color": "color.png", "outline": "outline.png"},
        "accentColor": "#{:02X}{:02X}{:02X}".format(*ACCENT),
        "bots": [
            {
                "botId": app_id,
                "scopes": ["personal", "team"],
                "isNotificationOnly": False,
                "supportsFiles": False,
                "commandLists": [
                    {"scopes": ["personal"], "commands": commands},
                    {"scopes": ["team"], "commands": commands},
                ],
            }
        ],
        "permissions": ["identity", "messageTeamMembers"],
        "validDomains": [host] if host else [],
    }


def package(*, app_id: str, public_url: str, version: str = "1.0.0") -> bytes:
    """The zip Teams takes as an app package."""
    manifest = build_manifest(app_id=app_id, public_url=public_url, version=version)
    files = {
        "manifest.json": json.dumps(manifest, indent=2, ensure_ascii=False).encode(),
        "color.png": color_icon(),
        "outline.png": outline_icon(),
    }
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in files.items():  # a fixed date: the same settings give the same bytes
            info = zipfile.ZipInfo(name, date_time=PACKAGE_DATE)
            archive.writestr(info, data, compress_type=zipfile.ZIP_DEFLATED)
    return buffer.getvalue()


# Icons, drawn with the standard library: a video camera, white, on the accent colour (color)
# or on nothing (outline).

Pixel = tuple[int, int, int, int]


def png(width: int, height: int, pixel: Callable[[int, int], Pixel]) -> bytes:
    """An 8-bit RGBA PNG (color type 6) whose pixels `pixel(x, y)` gives."""
    rows = b"".join(
        b"\x00" + b"".join(bytes(pixel(x, y)) for x in range(width)) for y in range(height)
    )

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", width, height, 8, 6, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows, 9))
        + chunk(b"IEND", b"")
    )


def _camera(x: float, y: float) -> bool:
    """A camera body and its lens, in a unit square."""
    body = 0.16 <= x <= 0.64 and 0.30 <= y <= 0.70
    lens = 0.64 <= x <= 0.86 and abs(y - 0.5) <= 0.06 + (x - 0.64) * 0.7
    return body or lens


def color_icon(size: int = 192) -> bytes:
    white, accent = (255, 255, 255, 255), (*ACCENT, 255)
    return png(size, size, lambda x, y: white if _camera(x / size, y / size) else accent)


def outline_icon(size: int = 32) -> bytes:
    white, clear = (255, 255, 255, 255), (0, 0, 0, 0)

    def pixel(x: int, y: int) -> Pixel:
        inside = _camera(x / size, y / size)
        edge = any(
            not _camera((x + dx) / size, (y + dy) / size)
            for dx, dy in ((1, 0), (-1, 0), (0, 1), (0, -1))
        )
        return white if inside and edge else clear

    return png(size, size, pixel)
