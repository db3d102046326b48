"""The service-URL allow-list: botbuilder's `trust_service_url` is a no-op, so the allow-list is
ours. Every outbound call goes to the activity's or the stored reference's `serviceUrl`, with the
bot's token; public Teams answers from smba.trafficmanager.net (and its regional paths), the GCC
and onyx hosts in `config.DEFAULT_SERVICE_URL_HOSTS`; sovereign clouds have their own hosts and
must be configured.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from urllib.parse import urlsplit

from bot.errors import PermanentFailure


class ServiceUrlRefused(PermanentFailure):
    """A service URL outside the allow-list: nothing is sent there, the bot's token least of all."""


def allowed_service_url(url: str, hosts: Iterable[str]) -> bool:
    """https to a listed host and port (`*.example.com` matches its subdomains; an entry without
    a port allows only the scheme's default one); plain http only to a listed loopback host,
    which is what a local simulator or tunnel looks like."""
    try:
        parts = urlsplit(url)
        host = (parts.hostname or "").lower()
        port = parts.port or _DEFAULT_PORTS.get(parts.scheme)
    except ValueError:  # a malformed port
        return False
    if not host or parts.username is not None or parts.password is not None:
        return False
    if parts.scheme != "https" and not (parts.scheme == "http" and _is_loopback(host)):
        return False
    return any(_entry_matches(entry, host, port, parts.scheme) for entry in hosts)


_DEFAULT_PORTS = {"https": 443, "http": 80}


def _entry_matches(entry: str, host: str, port: int | None, scheme: str) -> bool:
    try:
        allowed = urlsplit("//" + entry.strip().lower())
        allowed_host = allowed.hostname or ""
        allowed_port = allowed.port or _DEFAULT_PORTS[scheme]
    except ValueError:
        return False
    if not allowed_host or port != allowed_port:
        return False
    if allowed_host.startswith("*."):
        return host.endswith(allowed_host[1:]) and host != allowed_host[2:]
    return host == allowed_host


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
