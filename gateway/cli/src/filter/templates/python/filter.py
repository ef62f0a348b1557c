"""{{name}}: sets `x-{{name}}: <greeting>` on the request (the upstream sees
it) and on the response (the client sees it)."""

from weir_filter import Filter, export_filter, log

HEADER = "x-{{name}}"


class {{class}}(Filter):
    def __init__(self, config):
        # Called once per instance with the filter's `config`; raising makes
        # weir refuse the config (`weir check` shows it).
        self.greeting = config.string("greeting")

    # weir calls only the phases the class defines.
    def on_request_headers(self, req):
        try:
            req.set_header(HEADER, self.greeting)
        except ValueError as error:
            log.warn(f"cannot set {HEADER}: {error}")

    def on_response_headers(self, req, resp):
        resp.set_header(HEADER, self.greeting)


export_filter({{class}})
