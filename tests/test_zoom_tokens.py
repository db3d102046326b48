"""Zoom kills the old refresh token on every refresh: two workers refreshing the same credential at
once must end with one refresh, both continuing, and the connection alive (rule 4)."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable

import httpx

from adapters.zoom.oauth import ZoomOAuth
from adapters.zoom.tokens import ZoomAccessTokens
from app.bootstrap import Core
from app.sandbox import ZOOM_CLIENT_ID, ZOOM_CLIENT_SECRET, SandboxWorld, seed_demo


def _refresh_in_own_loop(
    core: Core, zoom_url: str, account_id: str, results: list[str], start: threading.Barrier
) -> None:
    async def main() -> None:
        async with httpx.AsyncClient(timeout=10) as http:
            oauth = ZoomOAuth(
                http, oauth_url=zoom_url, client_id=ZOOM_CLIENT_ID, client_secret=ZOOM_CLIENT_SECRET
            )
            tokens = ZoomAccessTokens(core.zoom_tokens, oauth, core.clock)
            stale = core.zoom_tokens.tokens(account_id=account_id)
            start.wait()
            fresh = await tokens.refreshed(account_id, stale=stale)
            results.append(fresh.access_token)

    asyncio.run(main())


def test_two_workers_refresh_at_once(make_core: Callable[..., Core], world: SandboxWorld) -> None:
    first, second = make_core(), make_core()  # two engines: two processes' worth of connections
    demo = seed_demo(first, world)
    account_id = first.zoom_accounts.zoom_account_id(company_id=demo.company_id)
    assert account_id is not None
    world.zoom.faults.latency = 0.3  # a slow refresh widens the window in which both try
    results: list[str] = []
    start = threading.Barrier(2)
    threads = [
        threading.Thread(
            target=_refresh_in_own_loop, args=(core, world.url("zoom"), account_id, results, start)
        )
        for core in (first, second)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)

    assert world.zoom.refresh_count == 1
    assert len(results) == 2 and results[0] == results[1]
    stored = first.zoom_tokens.tokens(account_id=account_id)
    assert stored.access_token == results[0] and stored.version == 2
    world.zoom.faults.latency = 0
    answer = httpx.get(
        f"{world.url('zoom')}/v2/users/me", headers={"Authorization": f"Bearer {results[0]}"}
    )
    assert answer.status_code == 200, "the surviving token works"
