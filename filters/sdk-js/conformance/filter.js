// Exercises the JavaScript SDK's whole surface, one path per area, for
// fixtures.yaml: the same cases pass whichever engine the filter is built on
// (QuickJS by default; WEIR_JS_ENGINE=starlingmonkey for the other).
import { Decision, Filter, bytes, concat, context, log, text } from "weir-filter";
import * as kv from "weir-filter/kv";
import * as secrets from "weir-filter/secrets";

export default class Conformance extends Filter {
  constructor(config) {
    super();
    this.store = kv.open(config.string("store"));
    this.limit = config.number("limit");
    this.tag = config.get("tag", "none");
  }

  onRequestHeaders(req) {
    this.path = req.path;
    req.setResponseHeader("x-conf-early", "yes");
    switch (req.path) {
      case "/headers": {
        req.appendHeader("x-multi", "three");
        req.setHeader("x-conf-all", req.headerAll("x-multi").join("|"));
        req.setHeader("x-conf-count", String(req.headers().filter(([name]) => name.startsWith("x-multi")).length));
        const raw = req.headerBytes("x-multi");
        req.setHeader("x-conf-bytes", `${raw instanceof Uint8Array} ${raw.length}`);
        req.setHeader("x-conf-missing", `${req.header("x-none")} ${req.headerBytes("x-none")}`);
        req.removeHeader("x-drop");
        req.setHeader("x-conf-bin", new Uint8Array([0x61, 0x62]));
        let refused = "no";
        try {
          req.setHeader("x-bad", "a\nb");
        } catch (error) {
          refused = "yes";
        }
        req.setHeader("x-conf-refused", refused);
        req.setHeader("x-conf-req", `${req.method} ${req.query} ${req.clientIp} ${req.id.length > 0}`);
        req.setQuery(null);
        req.setPath("/rewritten");
        req.appendResponseHeader("x-conf-early", "again");
        req.removeResponseHeader("x-up-drop");
        return;
      }
      case "/kv": {
        const s = this.store;
        s.set("a", "1", { ttlMs: 60_000 });
        s.set("b", new Uint8Array([0xff, 0x00]));
        const out = {
          a: s.getString("a"),
          b: Array.from(s.get("b")),
          bIsBytes: s.get("b") instanceof Uint8Array,
          missing: s.get("nope"),
          inc: s.increment("n", 5, { ttlMs: 1000 }),
          inc2: s.increment("n", 2),
          seeded: s.increment("seeded"),
          casNew: s.compareAndSwap("lock", null, "me", { ttlMs: 5000 }),
          casAgain: s.compareAndSwap("lock", null, "you"),
          casMatch: s.compareAndSwap("lock", "me", "you"),
          lock: s.getString("lock"),
          deleted: s.delete("a"),
          deletedAgain: s.delete("a"),
          t1: s.throttle("rl", { limit: this.limit, windowMs: 60_000 }),
          t2: s.throttle("rl", { limit: this.limit, windowMs: 60_000 }, this.limit),
        };
        out.t2.retryAfterPositive = out.t2.retryAfterMs > 0;
        delete out.t2.retryAfterMs;
        delete out.t2.resetAfterMs;
        delete out.t1.retryAfterMs;
        delete out.t1.resetAfterMs;
        return Decision.json(200, out);
      }
      case "/kv-errors": {
        const out = {};
        try {
          kv.open("not-granted");
        } catch (error) {
          out.open = [error instanceof kv.KvError, error.kind];
        }
        this.store.set("text", "abc");
        try {
          this.store.increment("text", 1);
        } catch (error) {
          out.increment = [error instanceof kv.KvError, error.kind];
        }
        return Decision.json(200, out);
      }
      case "/secret": {
        let missing;
        try {
          secrets.get("nope");
        } catch (error) {
          missing = `${error instanceof Error} ${error.message}`;
        }
        const value = secrets.get("token");
        return Decision.text(200, `${secrets.getString("token")} ${value instanceof Uint8Array} ${value.length} | ${missing}`);
      }
      case "/respond":
        return Decision.respond(418, [["x-conf-a", "1"], ["X-Conf-B", bytes("2")]], new Uint8Array([0x68, 0x69]));
      case "/json":
        return Decision.json(201, { tag: this.tag, list: [1, "two", null], nested: { ok: true } }, { "x-conf": "json" });
      case "/throw":
        throw new Error("thrown on purpose");
      case "/bad-decision":
        return { kind: "replace", body: bytes("x") };
      case "/random": {
        const r = Math.random();
        const uuid = crypto.randomUUID();
        const values = crypto.getRandomValues(new Uint8Array(8));
        const ok = r >= 0 && r < 1 && /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/.test(uuid);
        return Decision.text(200, `${ok} ${values.length}`);
      }
      case "/utf8": {
        const s = "héllo €𝄞";
        const encoded = new TextEncoder().encode(s);
        const lossy = new TextDecoder().decode(new Uint8Array([0x61, 0xff, 0xe2, 0x82, 0x62]));
        return Decision.text(200, `${encoded.length} ${new TextDecoder().decode(encoded) === s} ${text(encoded) === s} ${lossy === "a\ufffd\ufffdb"}`);
      }
      default:
        context.set("conf-path", req.path);
    }
  }

  onRequestBody(req, body) {
    if (req.header("x-conf-upper") === "yes") {
      return Decision.replace(text(body).toUpperCase());
    }
    if (req.header("x-conf-reject") === "yes") {
      return Decision.text(413, `${body.length} bytes refused`);
    }
  }

  onResponseHeaders(req, resp) {
    resp.setHeader("x-conf-status-seen", String(resp.status));
    resp.setHeader("x-conf-up", resp.header("x-up") ?? "none");
    resp.appendHeader("x-up-multi", "added");
    resp.setHeader("x-conf-up-all", resp.headerAll("x-up-multi").join("|"));
    resp.removeHeader("x-up-secret");
    if (resp.status === 500) resp.setStatus(502);
    if (req.path === "/rewritten") resp.setHeader("x-conf-rewritten", "yes");
  }

  onResponseBody(req, resp, body) {
    if (req.header("x-conf-wrap") === "yes") {
      return Decision.replace(concat("<", body, bytes(">")));
    }
  }

  onLog(req, resp, info) {
    context.set("log", `${info.status} ${typeof info.durationUs} ${info.requestBodyBytes} ${info.responseBodyBytes} ${info.route} ${info.error} ${resp.status}`);
    log.info(`conformance: ${req.method} ${this.path}`);
  }
}
