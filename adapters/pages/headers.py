"""The headers every page of meetbot's own carries.

The pages load their style and script from meetbot's own static files (no inline code), so the
Content-Security-Policy needs no 'unsafe-inline': an injected script or style would not run.
"""

from __future__ import annotations

CONTENT_SECURITY_POLICY = "; ".join(
    (
        "default-src 'none'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self'",
        "base-uri 'none'",
        "form-action 'none'",
        "frame-ancestors 'none'",
    )
)


def page_headers(**extra: str) -> dict[str, str]:
    """Security headers, plus `extra` (a later value wins)."""
    return {
        "Content-Security-Policy": CONTENT_SECURITY_POLICY,
        "X-Content-Type-Options": "nosniff",
        "X-Frame-Options": "DENY",  # for browsers that predate frame-ancestors
        "Referrer-Policy": "no-referrer",  # a link's token must not travel on to another site
        **extra,
    }
