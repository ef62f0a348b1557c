"""Key-value stores (grants.key_value). Declare "key-value" in the filter's
pyproject.toml (`[tool.weir] capabilities = ["key-value"]`).

    from weir_filter import kv
    store = kv.open("counters")            # once, in __init__
    hits = store.increment(f"hits:{req.client_ip}", 1, ttl_ms=60_000)
"""

from dataclasses import dataclass
from typing import Optional

from componentize_py_types import Err

try:
    from wit_world.imports import key_value as _kv
except ImportError as error:  # the world was built without the capability
    raise ImportError(
        'weir_filter.kv needs the key-value capability: add "key-value" to [tool.weir] capabilities in pyproject.toml'
    ) from error

from . import Bytes, as_bytes, as_text

_KINDS = {_kv.Error_NotGranted: "not-granted", _kv.Error_Unavailable: "unavailable", _kv.Error_Invalid: "invalid"}


class KvError(Exception):
    """A failed key-value call; `kind` is "not-granted", "unavailable" or "invalid"."""

    def __init__(self, kind: str, message: str):
        super().__init__(f"{kind}: {message}")
        self.kind = kind


def _error(error: Err) -> KvError:
    return KvError(_KINDS.get(type(error.value), "invalid"), str(error.value.value))


@dataclass
class Throttled:
    allowed: bool
    remaining: int
    retry_after_ms: int
    reset_after_ms: int


class Store:
    """An open store; open it once and keep it."""

    def __init__(self, handle):
        self._handle = handle

    # Each call catches the host's error inline: no closure or helper frame
    # per call.

    def get(self, key: str) -> Optional[bytes]:
        try:
            return self._handle.get(key)
        except Err as error:
            raise _error(error) from None

    def get_string(self, key: str) -> Optional[str]:
        return as_text(self.get(key))

    def set(self, key: str, value: Bytes, ttl_ms: Optional[int] = None) -> None:
        data = value.encode() if type(value) is str else as_bytes(value)
        try:
            self._handle.set(key, data, ttl_ms)
        except Err as error:
            raise _error(error) from None

    def delete(self, key: str) -> bool:
        try:
            return self._handle.delete(key)
        except Err as error:
            raise _error(error) from None

    def increment(self, key: str, delta: int = 1, ttl_ms: Optional[int] = None) -> int:
        """Adds `delta` (a missing key counts as 0), returns the new value; `ttl_ms` applies when this creates the key."""
        try:
            return self._handle.increment(key, delta, ttl_ms)
        except Err as error:
            raise _error(error) from None

    def compare_and_swap(self, key: str, expected: Optional[Bytes], value: Bytes, ttl_ms: Optional[int] = None) -> bool:
        """Sets `value` only if the current value equals `expected` (None: only if unset)."""
        expected_bytes = None if expected is None else as_bytes(expected)
        data = as_bytes(value)
        try:
            return self._handle.compare_and_swap(key, expected_bytes, data, ttl_ms)
        except Err as error:
            raise _error(error) from None

    def throttle(self, key: str, limit: int, window_ms: int, cost: int = 1) -> Throttled:
        """Rate limiting (GCRA on the store's clock): spends `cost` of `limit` per `window_ms` on `key`."""
        try:
            answer = self._handle.throttle(key, _kv.Quota(limit, window_ms), cost)
        except Err as error:
            raise _error(error) from None
        return Throttled(answer.allowed, answer.remaining, answer.retry_after_ms, answer.reset_after_ms)


def open(name: str) -> Store:  # noqa: A001 - mirrors the WIT's `open`
    """Opens a store granted to this filter; raises KvError."""
    try:
        return Store(_kv.Store.open(name))
    except Err as error:
        raise _error(error) from None
