"""The component's exports: the build's entry module imports the filter's
module (which calls `export_filter`) and then `WitWorld` from here.

componentize-py creates a `WitWorld` for every call. Each export is then one
Python frame around the filter's method: the handles are wrapped directly
(no closure, no helper frame), the usual answer (None: continue) is a
prebuilt variant, and the exception handler costs nothing until a phase
raises. What the imports and `init` made is frozen out of the cycle
collector, so its collections on the per-call path do not walk it again.
"""

import gc
import traceback

import wit_world
from componentize_py_types import Err

from . import _PHASES, Config, Decision, Request, Response, _registered_class, log
from . import _types as types

_filter = None

_HEADER_CONTINUE = types.Decision_Continue()
_REQUEST_BODY_CONTINUE = types.RequestBodyDecision_Continue()
_RESPONSE_BODY_CONTINUE = types.ResponseBodyDecision_Continue()


def _invalid(phase, decision):
    return TypeError(f"{phase} returned a decision it cannot make: {decision!r}")


def _header_decision(decision, phase):
    if not isinstance(decision, Decision):
        raise _invalid(phase, decision)
    kind = decision.kind
    if kind == "continue":
        return _HEADER_CONTINUE
    if kind == "respond":
        return types.Decision_Respond(decision.response)
    raise _invalid(phase, decision)


def _request_body_decision(decision):
    if not isinstance(decision, Decision):
        raise _invalid("on_request_body", decision)
    kind = decision.kind
    if kind == "continue":
        return _REQUEST_BODY_CONTINUE
    if kind == "replace":
        return types.RequestBodyDecision_Replace(decision.body)
    if kind == "respond":
        return types.RequestBodyDecision_Respond(decision.response)
    raise _invalid("on_request_body", decision)


def _response_body_decision(decision):
    if not isinstance(decision, Decision):
        raise _invalid("on_response_body", decision)
    kind = decision.kind
    if kind == "continue":
        return _RESPONSE_BODY_CONTINUE
    if kind == "replace":
        return types.ResponseBodyDecision_Replace(decision.body)
    raise _invalid("on_response_body", decision)


def _raised(phase):
    # An exception is logged with its traceback, then traps: weir applies the
    # filter's on_error, as for a Rust panic.
    log.error(f"{phase} raised:\n{traceback.format_exc()}")


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
        # The filter and what its constructor made live as long as the
        # instance, as do the modules (frozen when the component was built):
        # the collector need not walk them on the per-call path.
        gc.freeze()
        return phases

    def on_request_headers(self, req) -> types.Decision:
        try:
            decision = _filter.on_request_headers(Request(req))
            if decision is None:
                return _HEADER_CONTINUE
            return _header_decision(decision, "on_request_headers")
        except BaseException:
            _raised("on_request_headers")
            raise

    def on_request_body(self, req, body: bytes) -> types.RequestBodyDecision:
        try:
            decision = _filter.on_request_body(Request(req), body)
            if decision is None:
                return _REQUEST_BODY_CONTINUE
            return _request_body_decision(decision)
        except BaseException:
            _raised("on_request_body")
            raise

    def on_response_headers(self, req, resp) -> types.Decision:
        try:
            decision = _filter.on_response_headers(Request(req), Response(resp))
            if decision is None:
                return _HEADER_CONTINUE
            return _header_decision(decision, "on_response_headers")
        except BaseException:
            _raised("on_response_headers")
            raise

    def on_response_body(self, req, resp, body: bytes) -> types.ResponseBodyDecision:
        try:
            decision = _filter.on_response_body(Request(req), Response(resp), body)
            if decision is None:
                return _RESPONSE_BODY_CONTINUE
            return _response_body_decision(decision)
        except BaseException:
            _raised("on_response_body")
            raise

    def on_log(self, req, resp, info: types.LogInfo) -> None:
        try:
            _filter.on_log(Request(req), Response(resp), info)
        except BaseException:
            _raised("on_log")
            raise


# What the imports made lives as long as the component; collected and frozen
# once, when the build snapshots it.
gc.collect()
gc.freeze()
