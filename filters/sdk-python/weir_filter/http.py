"""Outbound HTTP (grants.http) through the standard wasi:http interface.
Declare "http" in the filter's pyproject.toml
(`[tool.weir] capabilities = ["http"]`).

    from weir_filter import http
    resp = http.fetch("http://auth.internal:8080/check", headers={"accept": "application/json"}, timeout_ms=200)
    if resp.status == 200: ...

A request to an origin outside the grant raises HttpError
("HTTP-request-denied") before any connection is made. The call waits
without holding up weir's other requests; the filter's call_deadline counts it.
"""

import json as _json
from dataclasses import dataclass
from typing import Any, Optional
from urllib.parse import urlsplit

from componentize_py_types import Err, Ok

try:
    from wit_world.imports import outgoing_handler, streams
    from wit_world.imports import wasi_http_types as t
except ImportError as error:  # the world was built without the capability
    raise ImportError(
        'weir_filter.http needs the http capability: add "http" to [tool.weir] capabilities in pyproject.toml'
    ) from error

from . import Bytes, as_bytes, as_text

_METHODS = {
    "GET": t.Method_Get,
    "HEAD": t.Method_Head,
    "POST": t.Method_Post,
    "PUT": t.Method_Put,
    "DELETE": t.Method_Delete,
    "OPTIONS": t.Method_Options,
    "PATCH": t.Method_Patch,
}


class HttpError(Exception):
    """The request failed: denied by the grant, unreachable, timed out, too large."""


@dataclass
class HttpResponse:
    status: int
    headers: "list[tuple[str, str]]"
    body: bytes

    def header(self, name: str) -> Optional[str]:
        name = name.lower()
        return next((value for key, value in self.headers if key == name), None)

    def text(self) -> str:
        return as_text(self.body)

    def json(self) -> Any:
        return _json.loads(self.body)


def _error(code: Any) -> HttpError:
    name = type(code).__name__.removeprefix("ErrorCode_")
    detail = getattr(code, "value", None)
    return HttpError(name if detail is None else f"{name}: {detail}")


def fetch(
    url: str,
    method: str = "GET",
    headers: Optional[dict] = None,
    body: Optional[Bytes] = None,
    timeout_ms: Optional[int] = None,
) -> HttpResponse:
    """Sends a request and reads the whole response."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise HttpError(f"not an http(s) URL: {url}")
    try:
        fields = t.Fields.from_list([(k.lower(), as_bytes(v)) for k, v in (headers or {}).items()])
    except Err as error:
        raise HttpError(f"invalid header: {error.value}") from None
    request = t.OutgoingRequest(fields)
    upper = method.upper()
    request.set_method(_METHODS[upper]() if upper in _METHODS else t.Method_Other(upper))
    request.set_scheme(t.Scheme_Https() if parts.scheme == "https" else t.Scheme_Http())
    request.set_authority(parts.netloc)
    request.set_path_with_query((parts.path or "/") + (f"?{parts.query}" if parts.query else ""))
    outgoing_body = request.body()

    options = None
    if timeout_ms is not None:
        options = t.RequestOptions()
        options.set_connect_timeout(timeout_ms * 1_000_000)
        options.set_first_byte_timeout(timeout_ms * 1_000_000)
        options.set_between_bytes_timeout(timeout_ms * 1_000_000)
    # As weir's Rust SDK does: the body is written, the request handed over,
    # then the body finished; each resource is dropped before its parent.
    payload = as_bytes(body)
    try:
        with outgoing_body.write() as stream:
            for at in range(0, len(payload), 4096):
                stream.blocking_write_and_flush(payload[at : at + 4096])
    except Err as error:
        raise HttpError(f"writing the request body: {error.value}") from None
    try:
        future = outgoing_handler.handle(request, options)
    except Err as error:
        raise _error(error.value) from None
    try:
        t.OutgoingBody.finish(outgoing_body, None)
    except Err:
        pass  # the request already failed; its future says why

    with future:
        with future.subscribe() as ready:
            ready.block()
        answer = future.get()
    if answer is None or isinstance(answer, Err):
        raise HttpError("no response")
    result = answer.value
    if isinstance(result, Err):
        raise _error(result.value)
    with result.value as response:
        status = response.status()
        with response.headers() as fields:
            response_headers = [(name, as_text(value)) for name, value in fields.entries()]
        try:
            incoming = response.consume()
        except Err:
            raise HttpError("response body unavailable") from None
        chunks = []
        with incoming.stream() as stream:
            while True:
                try:
                    chunks.append(stream.blocking_read(65536))
                except Err as error:
                    if isinstance(error.value, streams.StreamError_Closed):
                        break
                    raise HttpError(f"reading the response body: {error.value}") from None
        with t.IncomingBody.finish(incoming):
            pass
    return HttpResponse(status, response_headers, b"".join(chunks))
