"""The component's exports: the build's entry module imports the filter's
module (which calls `export_filter`) and then `WitWorld` from here."""

import traceback

import wit_world
from componentize_py_types import Err

from . import _PHASES, Config, Decision, Request, Response, _registered_class, log
from . import _types as types

_filter = None


def _decide(value, phase, allowed, variants):
    decision = value if value is not None else Decision("continue")
    if not isinstance(decision, Decision) or decision.kind not in allowed:
        raise TypeError(f"{phase} returned a decision it cannot make: {decision!r}")
    if decision.kind == "continue":
        return variants["continue"]()
    if decision.kind == "replace":
        return variants["replace"](decision.body)
    return variants["respond"](decision.response)


_HEADER_DECISION = {"continue": types.Decision_Continue, "respond": types.Decision_Respond}
_REQUEST_BODY_DECISION = {
    "continue": types.RequestBodyDecision_Continue,
    "replace": types.RequestBodyDecision_Replace,
    "respond": types.RequestBodyDecision_Respond,
}
_RESPONSE_BODY_DECISION = {
    "continue": types.ResponseBodyDecision_Continue,
    "replace": types.ResponseBodyDecision_Replace,
}


def _guarded(phase, call):
    # An exception is logged with its traceback, then traps: weir applies the
    # filter's on_error, as for a Rust panic.
    try:
        return call()
    except BaseException:
        log.error(f"{phase} raised:\n{traceback.format_exc()}")
        raise


class WitWorld(wit_world.WitWorld):
    def init(self, config: str) -> types.Phases:
        global _filter
        try:
            _filter = _registered_class()(Config(config))
        except Exception as error:
            # The message is what `weir check` reports for the filter's config.
            raise Err(str(error))
        wanted = set(_filter.phases())
        phases = types.Phases(0)
        for name, flag in _PHASES:
            if name in wanted or name.removeprefix("on_") in wanted:
                phases |= flag
        return phases

    def on_request_headers(self, req) -> types.Decision:
        return _guarded(
            "on_request_headers",
            lambda: _decide(
                _filter.on_request_headers(Request(req)), "on_request_headers", ("continue", "respond"), _HEADER_DECISION
            ),
        )

    def on_request_body(self, req, body: bytes) -> types.RequestBodyDecision:
        return _guarded(
            "on_request_body",
            lambda: _decide(
                _filter.on_request_body(Request(req), body),
                "on_request_body",
                ("continue", "replace", "respond"),
                _REQUEST_BODY_DECISION,
            ),
        )

    def on_response_headers(self, req, resp) -> types.Decision:
        return _guarded(
            "on_response_headers",
            lambda: _decide(
                _filter.on_response_headers(Request(req), Response(resp)),
                "on_response_headers",
                ("continue", "respond"),
                _HEADER_DECISION,
            ),
        )

    def on_response_body(self, req, resp, body: bytes) -> types.ResponseBodyDecision:
        return _guarded(
            "on_response_body",
            lambda: _decide(
                _filter.on_response_body(Request(req), Response(resp), body),
                "on_response_body",
                ("continue", "replace"),
                _RESPONSE_BODY_DECISION,
            ),
        )

    def on_log(self, req, resp, info: types.LogInfo) -> None:
        _guarded("on_log", lambda: _filter.on_log(Request(req), Response(resp), info))
