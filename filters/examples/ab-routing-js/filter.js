// A/B routing, sticky by cookie. A visitor without a valid variant cookie is
// assigned `a` or `b` (`split`: the percentage sent to b) and gets the cookie
// with the response; later requests keep their variant. The variant goes
// upstream as a header, into the request context (for later filters) and,
// with `prefix`, into the path, so one route can reach two versions:
//
//   filters:
//     ab:
//       module: filters/target/languages/ab-routing-js.wasm
//       config: { split: 20, prefix: { a: "/v1", b: "/v2" } }
import { Filter, context } from "weir-filter";

const VARIANTS = ["a", "b"];

export default class AbRouting extends Filter {
  constructor(config) {
    super();
    this.cookie = config.get("cookie", "ab");
    this.header = config.get("header", "x-variant");
    this.split = config.get("split", 50);
    this.prefix = config.get("prefix", null);
    this.maxAge = config.get("max_age_secs", 30 * 24 * 3600);
    if (typeof this.split !== "number" || this.split < 0 || this.split > 100) {
      throw new Error('config field "split": expected a percentage from 0 to 100');
    }
  }

  onRequestHeaders(req) {
    const sticky = cookieValue(req.header("cookie"), this.cookie);
    this.assigned = VARIANTS.includes(sticky) ? null : Math.random() * 100 < this.split ? "b" : "a";
    const variant = this.assigned ?? sticky;
    req.setHeader(this.header, variant);
    context.set("variant", variant);
    if (this.prefix?.[variant]) req.setPath(this.prefix[variant] + req.path);
  }

  onResponseHeaders(req, resp) {
    resp.setHeader(this.header, context.get("variant"));
    if (this.assigned) {
      resp.appendHeader("set-cookie", `${this.cookie}=${this.assigned}; Path=/; Max-Age=${this.maxAge}; SameSite=Lax`);
    }
  }
}

/** The value of cookie `name` in a Cookie header, or null. */
function cookieValue(header, name) {
  for (const pair of (header ?? "").split(";")) {
    const at = pair.indexOf("=");
    if (at > 0 && pair.slice(0, at).trim() === name) return pair.slice(at + 1).trim();
  }
  return null;
}
