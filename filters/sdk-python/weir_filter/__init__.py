"""Write weir filters in Python: subclass `Filter`, register it with
`export_filter`, build with filters/sdk-python/build.sh.

    from weir_filter import Filter, export_filter

    class AddHeader(Filter):
        def __init__(self, config):
            self.name = config.string("name")
            self.value = config.string("value")

        def on_request_headers(self, req):
            req.set_header(self.name, self.value)

    export_filter(AddHeader)

weir calls only the phases the class defines (or `phases()` returns).
Capabilities live in their own modules (`weir_filter.kv`,
`weir_filter.secrets`) so a filter imports only what it uses.
"""

import json
from dataclasses import dataclass
from typing import Any, Optional, Union

from componentize_py_types import Err
from wit_world.imports import context as _context
from wit_world.imports import log as _log
# The world's own `types` interface is generated as `weir_filter_types` when
# the world also imports wasi:http (whose `types` takes the short name).
try:
    from wit_world.imports import weir_filter_types as _types
except ImportError:
    from wit_world.imports import types as _types

__all__ = [
    "Config",
    "Decision",
    "Filter",
    "LogInfo",
    "Request",
    "Response",
    "as_bytes",
    "as_text",
    "context",
    "export_filter",
    "log",
]

Bytes = Union[bytes, bytearray, memoryview, str]


def as_bytes(value: Optional[Bytes]) -> bytes:
    """UTF-8 bytes of a string; bytes pass through; None is empty."""
    if type(value) is str:
        return value.encode()
    if type(value) is bytes:
        return value
    if value is None:
        return b""
    if isinstance(value, str):
        return value.encode()
    return bytes(value)


def as_text(value: Optional[bytes]) -> Optional[str]:
    """Text of UTF-8 bytes (invalid sequences become U+FFFD); None stays None."""
    if type(value) is bytes:
        return value.decode("utf-8", "replace")
    return None if value is None else bytes(value).decode("utf-8", "replace")


_PHASES = [
    ("on_request_headers", _types.Phases.REQUEST_HEADERS),
    ("on_request_body", _types.Phases.REQUEST_BODY),
    ("on_response_headers", _types.Phases.RESPONSE_HEADERS),
    ("on_response_body", _types.Phases.RESPONSE_BODY),
    ("on_log", _types.Phases.LOG),
]


class Filter:
    """The base class of a filter. Override the phases you need; each returns a
    `Decision` (or None: continue). One instance serves every phase of a
    request and is reused by later requests: reset per-request state in
    `on_request_headers`."""

    def phases(self) -> "list[str]":
        """The phases weir calls: by default, those this class defines."""
        return [name for name, _ in _PHASES if getattr(type(self), name) is not getattr(Filter, name)]

    def on_request_headers(self, req: "Request") -> "Optional[Decision]":
        return None

    def on_request_body(self, req: "Request", body: bytes) -> "Optional[Decision]":
        return None

    def on_response_headers(self, req: "Request", resp: "Response") -> "Optional[Decision]":
        return None

    def on_response_body(self, req: "Request", resp: "Response", body: bytes) -> "Optional[Decision]":
        return None

    def on_log(self, req: "Request", resp: "Response", info: "LogInfo") -> None:
        return None


class Config:
    """The filter's `config` from weir's config file (an empty dict when absent)."""

    def __init__(self, text: str):
        parsed = json.loads(text)
        self.given = parsed is not None
        self.value: Any = {} if parsed is None else parsed

    def get(self, key: str, default: Any = None) -> Any:
        return self.value.get(key, default) if isinstance(self.value, dict) else default

    def string(self, key: str) -> str:
        """A required string."""
        return self._required(key, str, "string")

    def number(self, key: str) -> float:
        """A required number."""
        return self._required(key, (int, float), "number")

    def _required(self, key, kinds, kind_name):
        if not self.given:
            raise ValueError(f'no `config` given (config field "{key}" is required)')
        found = self.get(key)
        if found is None:
            raise ValueError(f'config field "{key}" is required')
        if not isinstance(found, kinds) or isinstance(found, bool):
            raise ValueError(f'config field "{key}": expected a {kind_name}')
        return found


@dataclass
class Decision:
    """What a phase decides; build it with the static methods. Returning None
    means continue."""

    kind: str
    response: Optional[_types.Response] = None
    body: Optional[bytes] = None

    @staticmethod
    def continue_() -> "Decision":
        return Decision("continue")

    @staticmethod
    def respond(status: int, headers: Any = None, body: Bytes = b"") -> "Decision":
        """Answer the client: headers as a dict or (name, value) pairs, body as str or bytes."""
        pairs = (headers or {}).items() if isinstance(headers, dict) or headers is None else headers
        header_list = [(name.lower(), as_bytes(value)) for name, value in pairs]
        return Decision("respond", response=_types.Response(status, header_list, as_bytes(body)))

    @staticmethod
    def text(status: int, body: str, headers: Optional[dict] = None) -> "Decision":
        return Decision.respond(status, {"content-type": "text/plain; charset=utf-8", **(headers or {})}, body)

    @staticmethod
    def json(status: int, value: Any, headers: Optional[dict] = None) -> "Decision":
        return Decision.respond(status, {"content-type": "application/json", **(headers or {})}, json.dumps(value))

    @staticmethod
    def replace(body: Bytes) -> "Decision":
        """Body phases: send this body instead (weir fixes the framing)."""
        return Decision("replace", body=as_bytes(body))


# The per-call path below is written for CPython's cost model inside the
# component: every host call already costs about a microsecond in the
# generated glue, so the SDK adds as little as it can on top of it: no
# closures or helper frames per call (errors are caught inline), no copies of
# the bytes the host hands over (they are `bytes` already), str values encoded
# once, straight to bytes.


class _Headers:
    def __init__(self, handle):
        self._handle = handle

    def header(self, name: str) -> Optional[str]:
        """The first value of a header as text, or None."""
        value = self._handle.header(name)
        return None if value is None else value.decode("utf-8", "replace")

    def header_bytes(self, name: str) -> Optional[bytes]:
        return self._handle.header(name)

    def header_all(self, name: str) -> "list[str]":
        return [value.decode("utf-8", "replace") for value in self._handle.header_all(name)]

    def headers(self) -> "list[tuple[str, str]]":
        return [(name, value.decode("utf-8", "replace")) for name, value in self._handle.headers()]

    def set_header(self, name: str, value: Bytes) -> None:
        """Replace every value; raises ValueError if weir refuses it (CR, LF, NUL, a bad name)."""
        data = value.encode() if type(value) is str else as_bytes(value)
        try:
            self._handle.set_header(name, data)
        except Err as error:
            raise ValueError(str(error.value)) from None

    def append_header(self, name: str, value: Bytes) -> None:
        data = value.encode() if type(value) is str else as_bytes(value)
        try:
            self._handle.append_header(name, data)
        except Err as error:
            raise ValueError(str(error.value)) from None

    def remove_header(self, name: str) -> None:
        self._handle.remove_header(name)


class Request(_Headers):
    """The request: valid only during the phase call that received it."""

    @property
    def method(self) -> str:
        return self._handle.method()

    @property
    def path(self) -> str:
        return self._handle.path()

    def set_path(self, path: str) -> None:
        try:
            self._handle.set_path(path)
        except Err as error:
            raise ValueError(str(error.value)) from None

    @property
    def query(self) -> Optional[str]:
        return self._handle.query()

    def set_query(self, query: Optional[str]) -> None:
        try:
            self._handle.set_query(query)
        except Err as error:
            raise ValueError(str(error.value)) from None

    def set_response_header(self, name: str, value: Bytes) -> None:
        """Edits of the response to this request (whichever answers it), made
        in a request phase: weir applies them when the response arrives,
        before the response phases. Raises ValueError if weir refuses the edit
        (a bad name, CR, LF or NUL in the value, or the response has already
        arrived)."""
        data = value.encode() if type(value) is str else as_bytes(value)
        try:
            self._handle.set_response_header(name, data)
        except Err as error:
            raise ValueError(str(error.value)) from None

    def append_response_header(self, name: str, value: Bytes) -> None:
        data = value.encode() if type(value) is str else as_bytes(value)
        try:
            self._handle.append_response_header(name, data)
        except Err as error:
            raise ValueError(str(error.value)) from None

    def remove_response_header(self, name: str) -> None:
        try:
            self._handle.remove_response_header(name)
        except Err as error:
            raise ValueError(str(error.value)) from None

    @property
    def client_ip(self) -> str:
        return self._handle.client_ip()

    @property
    def id(self) -> str:
        return self._handle.id()


class Response(_Headers):
    """The response: valid only during the phase call that received it."""

    @property
    def status(self) -> int:
        return self._handle.status()

    def set_status(self, status: int) -> None:
        try:
            self._handle.set_status(status)
        except Err as error:
            raise ValueError(str(error.value)) from None


LogInfo = _types.LogInfo


_context_get = _context.get
_context_set = _context.set
_log_call = _log.log
_TRACE = _types.Level.TRACE
_DEBUG = _types.Level.DEBUG
_INFO = _types.Level.INFO
_WARN = _types.Level.WARN
_ERROR = _types.Level.ERROR


class _Context:
    """The per-request bag of strings shared by the filters of one chain."""

    def get(self, key: str) -> Optional[str]:
        return _context_get(key)

    def set(self, key: str, value: Any) -> None:
        _context_set(key, value if type(value) is str else str(value))

    def remove(self, key: str) -> None:
        _context.remove(key)


class _Log:
    """Into weir's log, tagged with the filter's name and the request id."""

    def trace(self, message: Any) -> None:
        _log_call(_TRACE, message if type(message) is str else str(message))

    def debug(self, message: Any) -> None:
        _log_call(_DEBUG, message if type(message) is str else str(message))

    def info(self, message: Any) -> None:
        _log_call(_INFO, message if type(message) is str else str(message))

    def warn(self, message: Any) -> None:
        _log_call(_WARN, message if type(message) is str else str(message))

    def error(self, message: Any) -> None:
        _log_call(_ERROR, message if type(message) is str else str(message))


context = _Context()
log = _Log()

_registered: "list[type]" = []


def export_filter(filter_class: type) -> type:
    """Makes `filter_class` the component's filter; call it once, at module level
    (it also works as a class decorator)."""
    _registered.append(filter_class)
    return filter_class


def _registered_class() -> type:
    if len(_registered) != 1:
        raise RuntimeError(f"export_filter must be called exactly once (called {len(_registered)} times)")
    return _registered[0]
