"""The headers every HTML page of meetbot's carries: a Content-Security-Policy that lets no
injected script or style run and no other site frame the page, no MIME sniffing, no referrer.

Pages load their script and style either from meetbot's own static files, or inline with a nonce
made for that one answer; neither needs 'unsafe-inline'.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping


def new_nonce() -> str:
    return secrets.token_urlsafe(16)


def page_headers(
    extra: Mapping[str, str] | None = None, *, nonce: str = "", posts_forms: bool = False
) -> dict[str, str]:
    """Security headers, plus `extra` (which wins). `nonce`: the inline script and style
    of this answer carry it; otherwise only meetbot's own files run. `posts_forms`: the page has
    a form that goes on to a platform's sign-in (form-action would also block that redirect)."""
    allowed = f"'nonce-{nonce}'" if nonce else "'self'"
    directives = [
        "default-src 'none'",
        f"script-src {allowed}",
        f"style-src {allowed}",
        "img-src 'self'",
        "base-uri 'none'",
        "frame-ancestors 'none'",
    ]
    if not posts_forms:
        directives.append("form-action 'none'")
    return {
        "Content-Security-Policy": "; ".join(directives),
        "X-Content-Type-Options": "nosniff",
        "X-Frame-Options": "DENY",  # for browsers that predate frame-ancestors
        "Referrer-Policy": "no-referrer",  # a link's token must not travel on to another site
        **(extra or {}),
    }
