// Write weir filters in JavaScript: extend `Filter`, export the class as the
// module's default export, build with filters/sdk-js/build.sh.
//
//   import { Filter } from "weir-filter";
//
//   export default class AddHeader extends Filter {
//     constructor(config) {
//       super();
//       this.name = config.string("name");
//       this.value = config.string("value");
//     }
//     onRequestHeaders(req) {
//       req.setHeader(this.name, this.value);
//     }
//   }
//
// weir calls only the phases the class defines (or `phases()` returns).
// Capabilities live in their own modules ("weir-filter/kv",
// "weir-filter/secrets") so a filter imports only what it uses.

import "./globals.js";
import * as wirContext from "weir:filter/context@0.1.0";
import * as wirLog from "weir:filter/log@0.1.0";
import { ENGINE } from "./engine.js";

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** UTF-8 bytes of a string; bytes pass through. */
export function bytes(value) {
  if (value instanceof Uint8Array) return value;
  if (typeof value === "string") return encoder.encode(value);
  if (value === undefined || value === null) return new Uint8Array(0);
  if (ArrayBuffer.isView(value)) return new Uint8Array(value.buffer, value.byteOffset, value.byteLength);
  if (value instanceof ArrayBuffer || Array.isArray(value)) return new Uint8Array(value);
  return encoder.encode(String(value));
}

/** One byte array from several strings or byte arrays. */
export function concat(...parts) {
  const arrays = parts.map(bytes);
  const out = new Uint8Array(arrays.reduce((n, a) => n + a.length, 0));
  let at = 0;
  for (const a of arrays) {
    out.set(a, at);
    at += a.length;
  }
  return out;
}

/** Text of UTF-8 bytes (invalid sequences become U+FFFD); null stays null. */
export function text(value) {
  if (value === undefined || value === null) return null;
  return typeof value === "string" ? value : decoder.decode(bytes(value));
}

const PHASES = [
  ["onRequestHeaders", "requestHeaders"],
  ["onRequestBody", "requestBody"],
  ["onResponseHeaders", "responseHeaders"],
  ["onResponseBody", "responseBody"],
  ["onLog", "log"],
];

/**
 * The base class of a filter. Override the phases you need; each header phase
 * returns a Decision (or nothing: continue), each body phase a Decision
 * (continue, replace, or for the request body respond).
 * One instance serves every phase of a request and is reused by later
 * requests: reset per-request state in onRequestHeaders.
 */
export class Filter {
  /** The phases weir calls: by default, those this class defines. */
  phases() {
    const set = [];
    for (const [method, phase] of PHASES) {
      if (this[method] !== Filter.prototype[method]) set.push(phase);
    }
    return set;
  }
  onRequestHeaders(_req) {}
  onRequestBody(_req, _body) {}
  onResponseHeaders(_req, _resp) {}
  onResponseBody(_req, _resp, _body) {}
  onLog(_req, _resp, _info) {}
}

/** The filter's `config` from weir's config file (an empty object when absent). */
export class Config {
  constructor(json) {
    const parsed = JSON.parse(json);
    this.given = parsed !== null;
    this.value = parsed === null ? {} : parsed;
  }
  /** A value, or `fallback` when the key is absent. */
  get(key, fallback = undefined) {
    const found = typeof this.value === "object" ? this.value[key] : undefined;
    return found === undefined ? fallback : found;
  }
  /** A required string. */
  string(key) {
    return this.#required(key, "string");
  }
  /** A required number. */
  number(key) {
    return this.#required(key, "number");
  }
  #required(key, type) {
    if (!this.given) throw new Error(`no \`config\` given (config field "${key}" is required)`);
    const found = this.get(key);
    if (found === undefined) throw new Error(`config field "${key}" is required`);
    if (typeof found !== type) throw new Error(`config field "${key}": expected a ${type}`);
    return found;
  }
}

/** What a phase decides. Returning nothing means continue. */
export const Decision = {
  continue() {
    return { kind: "continue" };
  },
  /** Answer the client: status, headers ({name: value} or [[name, value]]), body (string or bytes). */
  respond(status, headers = {}, body = "") {
    return { kind: "respond", response: { status, headers: headerList(headers), body: bytes(body) } };
  },
  /** Answer with a text/plain body. */
  text(status, body, headers = {}) {
    return Decision.respond(status, { "content-type": "text/plain; charset=utf-8", ...headers }, body);
  },
  /** Answer with a JSON body. */
  json(status, value, headers = {}) {
    return Decision.respond(status, { "content-type": "application/json", ...headers }, JSON.stringify(value));
  },
  /** Body phases: send this body instead (weir fixes the framing). */
  replace(body) {
    return { kind: "replace", body: bytes(body) };
  },
};

function headerList(headers) {
  const pairs = Array.isArray(headers) ? headers : Object.entries(headers);
  return pairs.map(([name, value]) => [name.toLowerCase(), bytes(value)]);
}

class Headers {
  constructor(handle) {
    this.handle = handle;
  }
  /** The first value of a header as text, or null. */
  header(name) {
    return text(this.handle.header(name));
  }
  /** The first value as bytes, or null. */
  headerBytes(name) {
    const value = this.handle.header(name);
    return value === undefined || value === null ? null : bytes(value);
  }
  /** Every value of a header, as text. */
  headerAll(name) {
    return this.handle.headerAll(name).map(text);
  }
  /** All headers as [name, text] pairs, in order. */
  headers() {
    return this.handle.headers().map(([name, value]) => [name, text(value)]);
  }
  /** Replace every value of a header; throws if weir refuses it (CR, LF, NUL, a bad name). */
  setHeader(name, value) {
    this.handle.setHeader(name, bytes(value));
  }
  appendHeader(name, value) {
    this.handle.appendHeader(name, bytes(value));
  }
  removeHeader(name) {
    this.handle.removeHeader(name);
  }
}

/** The request: valid only during the phase call that received it. */
export class Request extends Headers {
  get method() {
    return this.handle.method();
  }
  get path() {
    return this.handle.path();
  }
  setPath(path) {
    this.handle.setPath(path);
  }
  /** The query string without `?`, or null. */
  get query() {
    return this.handle.query() ?? null;
  }
  setQuery(query) {
    this.handle.setQuery(query ?? undefined);
  }
  /**
   * Edits of the response to this request (whichever answers it), made in a
   * request phase: weir applies them when the response arrives, before the
   * response phases. Throws if weir refuses the edit (a bad name, CR, LF or
   * NUL in the value, or the response has already arrived).
   */
  setResponseHeader(name, value) {
    this.handle.setResponseHeader(name, bytes(value));
  }
  appendResponseHeader(name, value) {
    this.handle.appendResponseHeader(name, bytes(value));
  }
  removeResponseHeader(name) {
    this.handle.removeResponseHeader(name);
  }
  get clientIp() {
    return this.handle.clientIp();
  }
  get id() {
    return this.handle.id();
  }
}

/** The response: valid only during the phase call that received it. */
export class Response extends Headers {
  get status() {
    return this.handle.status();
  }
  setStatus(status) {
    this.handle.setStatus(status);
  }
}

/** The per-request bag of strings shared by the filters of one chain. */
export const context = {
  get(key) {
    return wirContext.get(key) ?? null;
  },
  set(key, value) {
    wirContext.set(key, String(value));
  },
  remove(key) {
    wirContext.remove(key);
  },
};

/** Into weir's log, tagged with the filter's name and the request id. */
export const log = {
  trace: (message) => wirLog.log("trace", String(message)),
  debug: (message) => wirLog.log("debug", String(message)),
  info: (message) => wirLog.log("info", String(message)),
  warn: (message) => wirLog.log("warn", String(message)),
  error: (message) => wirLog.log("error", String(message)),
};

/** An exception as a log line: its message, then its stack. */
function describe(error) {
  if (!(error instanceof Error)) return String(error);
  const stack = typeof error.stack === "string" ? error.stack.trimEnd() : "";
  const head = `${error.name}: ${error.message}`;
  return stack === "" || stack.startsWith(head) ? stack || head : `${head}\n${stack}`;
}

function decision(value, phase, allowed) {
  // An async phase (one that awaits fetch()): weir's call waits for it.
  if (typeof value?.then === "function") {
    if (ENGINE === "quickjs") {
      throw new Error(
        `${phase} returned a Promise: async phases (and fetch()) need the StarlingMonkey engine, ` +
          `set "weir": { "engine": "starlingmonkey" } in the filter's package.json`,
      );
    }
    return value.then(
      (v) => decision(v, phase, allowed),
      (error) => {
        log.error(`${phase} threw: ${describe(error)}`);
        throw error;
      },
    );
  }
  const d = value ?? { kind: "continue" };
  if (!allowed.includes(d.kind)) {
    throw new Error(`${phase} returned a decision it cannot make: ${d.kind ?? JSON.stringify(d)}`);
  }
  if (d.kind === "continue") return { tag: "continue" };
  if (d.kind === "replace") return { tag: "replace", val: d.body };
  return { tag: "respond", val: d.response };
}

// An exception in a phase is logged with its stack, then traps: weir applies
// the filter's on_error, as for a Rust panic.
function guarded(phase, call) {
  try {
    return call();
  } catch (error) {
    log.error(`${phase} threw: ${describe(error)}`);
    throw error;
  }
}

/**
 * The component's exports for a Filter subclass (the build's generated entry
 * module re-exports them).
 */
export function exportFilter(FilterClass) {
  let filter = null;
  return {
    init(json) {
      try {
        filter = new FilterClass(new Config(json));
      } catch (error) {
        // The message is what `weir check` reports for the filter's config.
        throw String(error?.message ?? error);
      }
      const phases = {};
      for (const phase of filter.phases()) phases[phase] = true;
      if (ENGINE === "quickjs") {
        const method = PHASES.find(([m, phase]) => phases[phase] && filter[m]?.constructor?.name === "AsyncFunction");
        if (method) {
          throw (
            `${method[0]} is async: async phases (and fetch()) need the StarlingMonkey engine, ` +
            `set "weir": { "engine": "starlingmonkey" } in the filter's package.json`
          );
        }
      }
      return phases;
    },
    onRequestHeaders(req) {
      return guarded("onRequestHeaders", () =>
        decision(filter.onRequestHeaders(new Request(req)), "onRequestHeaders", ["continue", "respond"]),
      );
    },
    onRequestBody(req, body) {
      return guarded("onRequestBody", () =>
        decision(filter.onRequestBody(new Request(req), bytes(body)), "onRequestBody", ["continue", "replace", "respond"]),
      );
    },
    onResponseHeaders(req, resp) {
      return guarded("onResponseHeaders", () =>
        decision(filter.onResponseHeaders(new Request(req), new Response(resp)), "onResponseHeaders", [
          "continue",
          "respond",
        ]),
      );
    },
    onResponseBody(req, resp, body) {
      return guarded("onResponseBody", () =>
        decision(filter.onResponseBody(new Request(req), new Response(resp), bytes(body)), "onResponseBody", [
          "continue",
          "replace",
        ]),
      );
    },
    onLog(req, resp, info) {
      guarded("onLog", () =>
        filter.onLog(new Request(req), new Response(resp), {
          status: info.status,
          durationUs: Number(info.durationUs),
          requestBodyBytes: Number(info.requestBodyBytes),
          responseBodyBytes: Number(info.responseBodyBytes),
          upstreamTarget: info.upstreamTarget ?? null,
          route: info.route ?? null,
          error: info.error ?? null,
        }),
      );
    },
  };
}
