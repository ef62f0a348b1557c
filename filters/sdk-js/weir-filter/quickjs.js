// Run-time setup of a filter built on QuickJS; build.mjs's entry module calls
// install() after the filter's module has been evaluated. Filter code does
// not import this.
//
// - Math.random: QuickJS seeds its generator when the engine starts, and the
//   build snapshots the started engine, so every instance of a component
//   (and every build) would draw the same sequence. It is replaced by a
//   generator (xoshiro128**) seeded, at its first use in an instance, from
//   the host's wasi:random.
// - crypto.getRandomValues and crypto.randomUUID (StarlingMonkey has them),
//   from wasi:random.
// - console: StarlingMonkey's writes to stdout and stderr, which weir
//   discards; QuickJS has none. Here it exists and does nothing, so a stray
//   console.log does not throw.

import { getRandomBytes } from "wasi:random/random";

function randomBytes(length) {
  const got = getRandomBytes(length);
  return got instanceof Uint8Array ? got : Uint8Array.from(got);
}

let state = null;

function rotl(x, k) {
  return (x << k) | (x >>> (32 - k));
}

function next32() {
  if (state === null) {
    const seed = randomBytes(16);
    const view = new DataView(seed.buffer, seed.byteOffset, 16);
    state = new Uint32Array([view.getUint32(0), view.getUint32(4), view.getUint32(8), view.getUint32(12)]);
    if (state.every((word) => word === 0)) state[0] = 1;
  }
  const s = state;
  const result = Math.imul(rotl(Math.imul(s[1], 5), 7), 9) >>> 0;
  const t = s[1] << 9;
  s[2] ^= s[0];
  s[3] ^= s[1];
  s[1] ^= s[2];
  s[0] ^= s[3];
  s[2] ^= t;
  s[3] = rotl(s[3], 11);
  return result;
}

/** A double in [0, 1) with 53 random bits. */
function random() {
  return ((next32() >>> 5) * 67108864 + (next32() >>> 6)) / 9007199254740992;
}

function getRandomValues(array) {
  if (!ArrayBuffer.isView(array) || array instanceof Float32Array || array instanceof Float64Array) {
    throw new TypeError("crypto.getRandomValues: expected an integer typed array");
  }
  if (array.byteLength > 65536) {
    throw new RangeError("crypto.getRandomValues: at most 65536 bytes");
  }
  new Uint8Array(array.buffer, array.byteOffset, array.byteLength).set(randomBytes(array.byteLength));
  return array;
}

function randomUUID() {
  const b = randomBytes(16);
  b[6] = (b[6] & 0x0f) | 0x40;
  b[8] = (b[8] & 0x3f) | 0x80;
  const hex = Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

export function install() {
  Math.random = random;
  if (typeof globalThis.crypto !== "object" || globalThis.crypto === null) {
    globalThis.crypto = { getRandomValues, randomUUID };
  }
  if (typeof globalThis.console !== "object" || globalThis.console === null) {
    const nothing = () => {};
    globalThis.console = Object.fromEntries(
      ["log", "info", "warn", "error", "debug", "trace", "dir", "table", "assert", "group", "groupEnd", "time", "timeEnd", "count"].map(
        (name) => [name, nothing],
      ),
    );
  }
}
