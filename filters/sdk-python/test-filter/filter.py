"""Drives the SDK's capabilities for weir's tests (tests/e2e/languages.rs):
every response carries x-early-response: python, queued in the request phase;
/secret answers the secret named by x-secret (500 with the error otherwise);
/fetch fetches config url (a POST of config body when given) and answers its
status and body (502 on error)."""

from weir_filter import Decision, Filter, export_filter, http, secrets


class CapabilitiesTest(Filter):
    def __init__(self, config):
        self.url = config.string("url")
        self.body = config.get("body")

    def on_request_headers(self, req):
        req.set_response_header("x-early-response", "python")
        if req.path == "/secret":
            try:
                return Decision.text(200, secrets.get_string(req.header("x-secret") or ""))
            except secrets.SecretError as error:
                return Decision.text(500, str(error))
        try:
            method = "GET" if self.body is None else "POST"
            resp = http.fetch(self.url, method=method, body=self.body, headers={"x-from": "python"}, timeout_ms=2000)
        except http.HttpError as error:
            return Decision.text(502, f"fetch failed: {error}")
        return Decision.text(200, f"{resp.status} {resp.text()}")


export_filter(CapabilitiesTest)
