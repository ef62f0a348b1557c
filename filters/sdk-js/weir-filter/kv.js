// Key-value stores (grants.key_value). Declare "key-value" in the filter's
// package.json (`"weir": { "capabilities": ["key-value"] }`).
//
//   import * as kv from "weir-filter/kv";
//   const store = kv.open("counters");          // once, in the constructor
//   const hits = store.increment(`hits:${req.clientIp}`, 1, { ttlMs: 60_000 });

import { Store as WitStore } from "weir:filter/key-value@0.1.0";
import { int64 } from "./engine.js";
import { bytes, text } from "./index.js";

/** A failed key-value call; `kind` is "not-granted", "unavailable" or "invalid". */
export class KvError extends Error {
  constructor(kind, message) {
    super(`${kind}: ${message}`);
    this.kind = kind;
  }
}

function call(operation) {
  try {
    return operation();
  } catch (error) {
    const payload = error?.payload;
    if (payload && typeof payload.tag === "string") throw new KvError(payload.tag, String(payload.val));
    throw error;
  }
}

const ttl = (options) => (options?.ttlMs === undefined || options?.ttlMs === null ? undefined : int64(options.ttlMs));
const optionalBytes = (value) => (value === undefined || value === null ? undefined : bytes(value));

/** An open store; open it once and keep it. */
export class Store {
  constructor(handle) {
    this.handle = handle;
  }
  /** The value as bytes, or null. */
  get(key) {
    const value = call(() => this.handle.get(key));
    return value === undefined || value === null ? null : bytes(value);
  }
  /** The value as text, or null. */
  getString(key) {
    return text(this.get(key));
  }
  /** Sets a key; `{ ttlMs }` expires it. */
  set(key, value, options = {}) {
    call(() => this.handle.set(key, bytes(value), ttl(options)));
  }
  /** Removes a key; returns whether it was set. */
  delete(key) {
    return call(() => this.handle.delete(key));
  }
  /** Adds `delta` (a missing key counts as 0) and returns the new value; `ttlMs` applies when this creates the key. */
  increment(key, delta = 1, options = {}) {
    return Number(call(() => this.handle.increment(key, int64(delta), ttl(options))));
  }
  /** Sets `value` only if the current value equals `expected` (null: only if unset); returns whether it did. */
  compareAndSwap(key, expected, value, options = {}) {
    return call(() => this.handle.compareAndSwap(key, optionalBytes(expected), bytes(value), ttl(options)));
  }
  /** Rate limiting (GCRA on the store's clock): spends `cost` of `limit` per `windowMs` on `key`. */
  throttle(key, { limit, windowMs }, cost = 1) {
    const answer = call(() =>
      this.handle.throttle(key, { limit: int64(limit), windowMs: int64(windowMs) }, int64(cost)),
    );
    return {
      allowed: answer.allowed,
      remaining: Number(answer.remaining),
      retryAfterMs: Number(answer.retryAfterMs),
      resetAfterMs: Number(answer.resetAfterMs),
    };
  }
}

/** Opens a store granted to this filter; throws KvError. */
export function open(name) {
  return new Store(call(() => WitStore.open(name)));
}
