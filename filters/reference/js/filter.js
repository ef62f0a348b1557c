// The reference filter (see ../README.md), in JavaScript.
import { Decision, Filter, concat, context, log } from "weir-filter";
import * as kv from "weir-filter/kv";

const LANG = "js";

export default class Reference extends Filter {
  constructor(config) {
    super();
    this.store = kv.open(config.string("store"));
  }

  onRequestHeaders(req) {
    if (req.header("x-ref-deny") === "yes") {
      return Decision.text(403, "denied by the reference filter", { "content-type": "text/plain", "x-ref-denied": "yes" });
    }
    const name = req.header("x-ref-name") ?? "anonymous";
    req.setHeader("x-ref-greeting", `hello, ${name}`);
    context.set("ref-name", name);
    try {
      context.set("ref-count", this.store.increment(`hits:${name}`, 1));
    } catch (error) {
      context.set("ref-count", "unavailable");
      log.warn(`not counted: ${error.message}`);
    }
  }

  onRequestBody(req, body) {
    if (req.header("x-ref-upper") === "yes") {
      return Decision.replace(body.map((b) => (b >= 0x61 && b <= 0x7a ? b - 0x20 : b)));
    }
  }

  onResponseHeaders(req, resp) {
    resp.setHeader("x-ref-lang", LANG);
    for (const [key, header] of [["ref-name", "x-ref-name"], ["ref-count", "x-ref-count"]]) {
      const value = context.get(key);
      if (value !== null) resp.setHeader(header, value);
    }
  }

  onResponseBody(req, resp, body) {
    if (req.header("x-ref-wrap") === "yes") {
      const name = context.get("ref-name") ?? "-";
      return Decision.replace(concat(`[${LANG}:${name}]`, body, `[/${LANG}]`));
    }
  }

  onLog(req, resp, info) {
    log.info(`reference: ${req.method} ${req.path} -> ${info.status}`);
  }
}
