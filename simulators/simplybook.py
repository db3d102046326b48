"""A SimplyBook.me JSON-RPC API simulator (login, public and admin services).

Wire facts from the vendor's wiki (help.simplybook.me "User API guide",
"Company public service methods", "Errors handling"):
- JSON-RPC 2.0 over POST; errors come with HTTP 200 as
  {"jsonrpc": "2.0", "id": ..., "error": {"code": ..., "message": ...}}.
  (The wiki's example shows the code as a string, "-32602"; we send an int, as
  in its "Method not found" example: clients should accept both.)
- POST {api}/login: getToken(companyLogin, apiKey), getUserToken(companyLogin,
  userLogin, userPassword). Tokens live about one hour.
- POST {api} with X-Company-Login + X-Token; POST {api}/admin with
  X-Company-Login + X-User-Token.
- getBookingDetails(id, sign), sign = md5(id + bookingHash + secretKey).
- Codes: -32080 "Appointemnt couldn't be found" (sic), -32085 "Signature error",
  -32600 "Access denied" / "Company does not exists", -32601 "Method not found",
  -32602 "Invalid params"; login service: -33001 "Company does not exist",
  -33002 "Wrong API key", -33003 "User with this login and password not found".
  -32700 / -32600 for a malformed envelope are plain JSON-RPC 2.0.
- getEventList / getUnitList answer objects keyed by id, with string values
  ("duration": "60", "is_public": "1").
"""

from __future__ import annotations

import hashlib
import secrets
import string
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from simulators.base import Simulator, json_response, read_json

TOKEN_TTL_SECONDS = 3600.0

PARSE_ERROR = (-32700, "Parse error")
INVALID_REQUEST = (-32600, "Invalid Request")
ACCESS_DENIED = (-32600, "Access denied")
NO_COMPANY = (-32600, "Company does not exists")
METHOD_NOT_FOUND = (-32601, "Method not found")
INVALID_PARAMS = (-32602, "Invalid params")
BOOKING_NOT_FOUND = (-32080, "Appointemnt couldn't be found")
SIGNATURE_ERROR = (-32085, "Signature error")
LOGIN_NO_COMPANY = (-33001, "Company does not exist")
LOGIN_WRONG_KEY = (-33002, "Wrong API key")
LOGIN_WRONG_USER = (-33003, "User with this login and password not found")


class RpcError(Exception):
    def __init__(self, error: tuple[int, str]) -> None:
        super().__init__(error[1])
        self.code, self.message = error


@dataclass
class _Company:
    login: str
    api_key: str
    api_secret: str
    name: str
    timezone: str
    plugins: dict[str, bool]
    users: dict[str, str]
    services: dict[str, dict[str, Any]] = field(default_factory=dict)
    providers: dict[str, dict[str, Any]] = field(default_factory=dict)
    bookings: dict[str, dict[str, Any]] = field(default_factory=dict)
    clients: dict[str, str] = field(default_factory=dict)
    next_booking_id: int = 1001


@dataclass
class _Token:
    company: str
    admin: bool
    issued: float


@dataclass
class _Call:
    """One JSON-RPC call as received."""

    id: Any
    method: str
    params: list[Any]


def booking_sign(booking_id: str | int, booking_hash: str, api_secret: str) -> str:
    """The `sign` argument of getBookingDetails, as SimplyBook documents it."""
    return hashlib.md5(f"{booking_id}{booking_hash}{api_secret}".encode()).hexdigest()


class SimplyBookSimulator(Simulator):
    def __init__(self, *, clock: Callable[[], float] = time.monotonic) -> None:
        super().__init__()
        self._clock = clock
        self._companies: dict[str, _Company] = {}
        self._tokens: dict[str, _Token] = {}
        self._calls: Counter[str] = Counter()
        self.app = self._wrap(self._build_app())

    # State API, for tests and the sandbox.

    def add_company(
        self,
        login: str,
        *,
        api_key: str,
        api_secret: str,
        name: str | None = None,
        timezone: str = "Europe/Kyiv",
        plugins: dict[str, bool] | None = None,
        users: dict[str, str] | None = None,
    ) -> None:
        company = _Company(
            login, api_key, api_secret, name or login, timezone, dict(plugins or {}), {}
        )
        company.users.update(users or {})
        with self._lock:
            self._companies[login] = company

    def add_service(
        self, company: str, *, id: str | int, name: str, duration: int = 60, **extra: Any
    ) -> None:
        service = {
            "id": str(id),
            "name": name,
            "duration": str(duration),
            "hide_duration": "0",
            "description": "",
            "is_public": "1",
            "is_active": "1",
            "position": "0",
            **extra,
        }
        with self._lock:
            self._company(company).services[str(id)] = service

    def add_provider(
        self, company: str, *, id: str | int, name: str, email: str | None = None, **extra: Any
    ) -> None:
        provider = {
            "id": str(id),
            "name": name,
            "email": email or "",
            "phone": "",
            "description": "",
            "is_active": "1",
            "is_visible": "1",
            "position": "0",
            **extra,
        }
        with self._lock:
            self._company(company).providers[str(id)] = provider

    def add_booking(
        self,
        company: str,
        *,
        id: str | int | None = None,
        service_id: str | int,
        provider_id: str | int,
        client_name: str,
        client_email: str = "",
        client_phone: str = "",
        start: str,
        end: str,
        status: str = "confirmed",
        **extra: Any,
    ) -> dict[str, Any]:
        """Store a booking; start/end are "YYYY-MM-DD HH:MM:SS" in company local time."""
        with self._lock:
            comp = self._company(company)
            booking_id = str(id) if id is not None else self._next_booking_id(comp)
            booking: dict[str, Any] = {
                "id": booking_id,
                "code": _booking_code(),
                "hash": secrets.token_hex(16),
                "client_name": client_name,
                "client_email": client_email,
                "client_phone": client_phone,
                "client_id": self._client_id(comp, client_email or client_name),
            }
            comp.bookings[booking_id] = booking
            self._apply_changes(
                comp,
                booking,
                {
                    "service_id": service_id,
                    "provider_id": provider_id,
                    "start": start,
                    "end": end,
                    "status": status,
                    **extra,
                },
            )
            return dict(booking)

    def update_booking(self, company: str, booking_id: str | int, **changes: Any) -> dict[str, Any]:
        """Change a booking with add_booking's keyword names; its hash stays."""
        with self._lock:
            comp = self._company(company)
            booking = comp.bookings[str(booking_id)]
            self._apply_changes(comp, booking, changes)
            return dict(booking)

    def callback(
        self, company: str, booking_id: str | int, notification_type: str = "create"
    ) -> dict[str, Any]:
        """The webhook body SimplyBook would POST for this booking."""
        with self._lock:
            booking = self._company(company).bookings[str(booking_id)]
            return {
                "booking_id": str(booking_id),
                "booking_hash": booking["hash"],
                "company": company,
                "notification_type": notification_type,
            }

    def set_plugin(self, company: str, name: str, active: bool) -> None:
        with self._lock:
            self._company(company).plugins[name] = active

    def expire_tokens(self) -> None:
        with self._lock:
            self._tokens.clear()

    def calls(self, method: str) -> int:
        with self._lock:
            return self._calls[method]

    def booking(self, company: str, booking_id: str | int) -> dict[str, Any] | None:
        with self._lock:
            found = self._company(company).bookings.get(str(booking_id))
            return dict(found) if found is not None else None

    # Internals.

    def _company(self, login: str) -> _Company:
        try:
            return self._companies[login]
        except KeyError:
            raise KeyError(f"unknown SimplyBook company {login!r}") from None

    def _next_booking_id(self, comp: _Company) -> str:
        while str(comp.next_booking_id) in comp.bookings:
            comp.next_booking_id += 1
        comp.next_booking_id += 1
        return str(comp.next_booking_id - 1)

    def _client_id(self, comp: _Company, key: str) -> str:
        return comp.clients.setdefault(key, str(len(comp.clients) + 1))

    def _apply_changes(
        self, comp: _Company, booking: dict[str, Any], changes: dict[str, Any]
    ) -> None:
        changes = dict(changes)
        if "service_id" in changes:
            service_id = str(changes.pop("service_id"))
            service = comp.services.get(service_id, {})
            booking["event_id"] = service_id
            booking["event_name"] = service.get("name", "")
        if "provider_id" in changes:
            provider_id = str(changes.pop("provider_id"))
            provider = comp.providers.get(provider_id, {})
            booking["unit_id"] = provider_id
            booking["unit_name"] = provider.get("name", "")
            booking["unit_email"] = provider.get("email", "")
        if "start" in changes:
            booking["start_date_time"] = changes.pop("start")
        if "end" in changes:
            booking["end_date_time"] = changes.pop("end")
        if "status" in changes:
            booking["status"] = changes["status"]
            booking["is_confirmed"] = "1" if changes.pop("status") == "confirmed" else "0"
        changes.pop("hash", None)  # the hash belongs to the booking
        booking.update(changes)

    def _issue_token(self, company: str, *, admin: bool) -> str:
        token = secrets.token_hex(32)
        self._tokens[token] = _Token(company, admin, self._clock())
        return token

    # HTTP side.

    def _build_app(self) -> Starlette:
        return Starlette(
            routes=[
                Route("/login", self._login_endpoint, methods=["POST"]),
                Route("/login/", self._login_endpoint, methods=["POST"]),
                Route("/admin", self._admin_endpoint, methods=["POST"]),
                Route("/admin/", self._admin_endpoint, methods=["POST"]),
                Route("/", self._public_endpoint, methods=["POST"]),
            ]
        )

    async def _login_endpoint(self, request: Request) -> JSONResponse:
        return await self._serve(request, self._login_call)

    async def _public_endpoint(self, request: Request) -> JSONResponse:
        return await self._serve(request, lambda call: self._service_call(request, call, False))

    async def _admin_endpoint(self, request: Request) -> JSONResponse:
        return await self._serve(request, lambda call: self._service_call(request, call, True))

    async def _serve(self, request: Request, handler: Callable[[_Call], Any]) -> JSONResponse:
        body = await read_json(request)
        try:
            call = _parse_call(body)
        except RpcError as exc:
            return _error(None, exc)
        with self._lock:
            self._calls[call.method] += 1
            try:
                result = handler(call)
            except RpcError as exc:
                return _error(call.id, exc)
        return json_response({"jsonrpc": "2.0", "id": call.id, "result": result})

    def _login_call(self, call: _Call) -> Any:
        if call.method == "getToken":
            company_login, api_key = _params(call, 2)
            company = self._companies.get(str(company_login))
            if company is None:
                raise RpcError(LOGIN_NO_COMPANY)
            if not secrets.compare_digest(str(api_key), company.api_key):
                raise RpcError(LOGIN_WRONG_KEY)
            return self._issue_token(company.login, admin=False)
        if call.method == "getUserToken":
            company_login, user, password = _params(call, 3)
            company = self._companies.get(str(company_login))
            if company is None:
                raise RpcError(LOGIN_NO_COMPANY)
            if company.users.get(str(user)) != str(password):
                raise RpcError(LOGIN_WRONG_USER)
            return self._issue_token(company.login, admin=True)
        raise RpcError(METHOD_NOT_FOUND)

    def _service_call(self, request: Request, call: _Call, admin: bool) -> Any:
        company = self._authenticate(request, admin)
        if call.method == "getBookingDetails":
            return self._booking_details(company, call, signed=not admin)
        if call.method == "getEventList":
            return {k: dict(v) for k, v in company.services.items()}
        if call.method == "getUnitList":
            return {k: dict(v) for k, v in company.providers.items()}
        if call.method == "getCompanyInfo":
            return _company_info(company)
        if call.method == "isPluginActivated":
            (name,) = _params(call, 1)
            return bool(company.plugins.get(str(name), False))
        raise RpcError(METHOD_NOT_FOUND)

    def _authenticate(self, request: Request, admin: bool) -> _Company:
        login = request.headers.get("x-company-login", "")
        header = "x-user-token" if admin else "x-token"
        token = self._tokens.get(request.headers.get(header, ""))
        company = self._companies.get(login)
        if company is None:
            raise RpcError(NO_COMPANY if login else ACCESS_DENIED)
        if token is None or token.company != login or token.admin != admin:
            raise RpcError(ACCESS_DENIED)
        if self._clock() - token.issued > TOKEN_TTL_SECONDS:
            raise RpcError(ACCESS_DENIED)
        return company

    def _booking_details(self, company: _Company, call: _Call, *, signed: bool) -> Any:
        params = _params(call, 2 if signed else 1)
        booking = company.bookings.get(str(params[0]))
        if booking is None:
            raise RpcError(BOOKING_NOT_FOUND)
        if signed:
            expected = booking_sign(booking["id"], booking["hash"], company.api_secret)
            if not secrets.compare_digest(str(params[1]).lower(), expected):
                raise RpcError(SIGNATURE_ERROR)
        return {k: v for k, v in booking.items() if k != "hash"}


def _parse_call(body: Any) -> _Call:
    if body is None:
        raise RpcError(PARSE_ERROR)
    if not isinstance(body, dict) or not isinstance(body.get("method"), str):
        raise RpcError(INVALID_REQUEST)
    params = body.get("params", [])
    if not isinstance(params, list):
        raise RpcError(INVALID_PARAMS)
    return _Call(body.get("id"), body["method"], params)


def _params(call: _Call, count: int) -> list[Any]:
    if len(call.params) < count:
        raise RpcError(INVALID_PARAMS)
    return call.params[:count]


def _error(request_id: Any, exc: RpcError) -> JSONResponse:
    error = {"code": exc.code, "message": exc.message}
    return json_response({"jsonrpc": "2.0", "id": request_id, "error": error})


def _company_info(company: _Company) -> dict[str, Any]:
    return {
        "login": company.login,
        "name": company.name,
        "timezone": company.timezone,
        "email": f"{company.login}@example.com",
        "phone": "",
        "address1": "",
        "city": "",
        "country_id": "",
        "description": "",
    }


def _booking_code() -> str:
    alphabet = string.ascii_lowercase + string.digits
    return "".join(secrets.choice(alphabet) for _ in range(8))
