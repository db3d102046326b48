"""`app_manifest.yml` creates the Slack app as it is: valid against Slack's published schema, with the
routes and scopes the code uses, and `meetbot manifest slack` fills in the public URL."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from adapters.slack.app import BOT_SCOPES, COMMAND
from adapters.slack.inbound import EVENTS

ROOT = Path(__file__).resolve().parent.parent
SCHEMAS = ROOT.parent / "shared" / "schemas"


def _manifest() -> dict[str, Any]:
    return yaml.safe_load((ROOT / "app_manifest.yml").read_text())


def test_manifest_validates_against_slacks_schema() -> None:
    schema_file = SCHEMAS / "slack-app-manifest.schema.json"
    if not schema_file.exists():
        if os.environ.get("CI"):
            pytest.fail(f"the published schema is missing: {schema_file}")
        pytest.skip("the shared schemas folder is not beside this repository")
    schema = json.loads(schema_file.read_text())
    jsonschema.validate(_manifest(), schema, cls=jsonschema.Draft7Validator)


def test_manifest_matches_the_code() -> None:
    manifest = _manifest()
    [command] = manifest["features"]["slash_commands"]
    assert command["command"] == COMMAND and command["should_escape"] is True
    assert command["url"].endswith("/slack/events")
    assert manifest["settings"]["interactivity"]["request_url"].endswith("/slack/events")
    assert manifest["oauth_config"]["redirect_urls"] == [
        "https://meetbot.example.com/slack/oauth_redirect"
    ]
    assert sorted(manifest["oauth_config"]["scopes"]["bot"]) == sorted(BOT_SCOPES)
    # Every event meetbot handles is subscribed to, the Home tab's included.
    assert sorted(manifest["settings"]["event_subscriptions"]["bot_events"]) == sorted(EVENTS)
    assert manifest["features"]["app_home"]["home_tab_enabled"] is True


def test_manifest_command_fills_in_the_public_url() -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MEETBOT_")}
    env["MEETBOT_PUBLIC_URL"] = "https://bookings.yoga.example"
    result = subprocess.run(
        [sys.executable, "-m", "app", "manifest", "slack"],
        capture_output=True,
        text=True,
        env=env,
        check=False,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    filled = yaml.safe_load(result.stdout)
    assert (
        filled["features"]["slash_commands"][0]["url"]
        == "https://bookings.yoga.example/slack/events"
    )
    assert "meetbot.example.com" not in result.stdout
