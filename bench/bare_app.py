"""The reference point: a bare Starlette endpoint that reads a JSON body and answers {"ok": true}.

It does what meetbot's webhook route does at the HTTP layer (read and parse a JSON body, answer
JSON) and nothing else, so the difference between the two is meetbot's own work.
"""

from __future__ import annotations

import json

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route


async def accept(request: Request) -> JSONResponse:
    json.loads(await request.body())
    return JSONResponse({"ok": True})


app = Starlette(routes=[Route("/bare", accept, methods=["POST"])])
