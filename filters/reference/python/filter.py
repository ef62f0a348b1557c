"""The reference filter (see ../README.md), in Python."""

from weir_filter import Decision, Filter, context, export_filter, log
from weir_filter import kv

LANG = "python"


class Reference(Filter):
    def __init__(self, config):
        self.store = kv.open(config.string("store"))

    def on_request_headers(self, req):
        if req.header("x-ref-deny") == "yes":
            return Decision.text(403, "denied by the reference filter", {"content-type": "text/plain", "x-ref-denied": "yes"})
        name = req.header("x-ref-name") or "anonymous"
        req.set_header("x-ref-greeting", f"hello, {name}")
        context.set("ref-name", name)
        try:
            context.set("ref-count", self.store.increment(f"hits:{name}", 1))
        except kv.KvError as error:
            context.set("ref-count", "unavailable")
            log.warn(f"not counted: {error}")

    def on_request_body(self, req, body):
        if req.header("x-ref-upper") == "yes":
            return Decision.replace(body.translate(UPPER))

    def on_response_headers(self, req, resp):
        resp.set_header("x-ref-lang", LANG)
        for key, header in (("ref-name", "x-ref-name"), ("ref-count", "x-ref-count")):
            value = context.get(key)
            if value is not None:
                resp.set_header(header, value)

    def on_response_body(self, req, resp, body):
        if req.header("x-ref-wrap") == "yes":
            name = context.get("ref-name") or "-"
            return Decision.replace(f"[{LANG}:{name}]".encode() + body + f"[/{LANG}]".encode())

    def on_log(self, req, resp, info):
        log.info(f"reference: {req.method} {req.path} -> {info.status}")


# ASCII a-z to A-Z, every other byte unchanged.
UPPER = bytes.maketrans(b"abcdefghijklmnopqrstuvwxyz", b"ABCDEFGHIJKLMNOPQRSTUVWXYZ")

export_filter(Reference)
