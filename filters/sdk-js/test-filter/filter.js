// Drives the SDK's capabilities for weir's tests (tests/e2e/languages.rs):
//   every response carries x-early-response: js, queued in the request phase
//   /secret  answers the secret named by x-secret (500 with the error otherwise)
//   /fetch   fetches config.url (a POST of config.body when given) and answers
//            its status and body (502 on error)
import { Decision, Filter } from "weir-filter";
import * as secrets from "weir-filter/secrets";

export default class CapabilitiesTest extends Filter {
  constructor(config) {
    super();
    this.url = config.string("url");
    this.body = config.get("body", null);
  }

  async onRequestHeaders(req) {
    req.setResponseHeader("x-early-response", "js");
    if (req.path === "/secret") {
      try {
        return Decision.text(200, secrets.getString(req.header("x-secret") ?? ""));
      } catch (error) {
        return Decision.text(500, error.message);
      }
    }
    try {
      const init = this.body === null ? {} : { method: "POST", body: this.body };
      const resp = await fetch(this.url, { ...init, headers: { "x-from": "js" } });
      return Decision.text(200, `${resp.status} ${await resp.text()}`);
    } catch (error) {
      return Decision.text(502, `fetch failed: ${error.message ?? error}`);
    }
  }
}
