// Web globals that StarlingMonkey has and QuickJS lacks, installed only where
// they are missing, so a filter's code runs the same on both engines:
// TextEncoder and TextDecoder (UTF-8 only).

function encodeUtf8(input = "") {
  const s = String(input);
  const out = new Uint8Array(s.length * 3);
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    let c = s.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length) {
      const d = s.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) {
        c = 0x10000 + ((c - 0xd800) << 10) + (d - 0xdc00);
        i++;
      }
    }
    if (c >= 0xd800 && c <= 0xdfff) c = 0xfffd; // a lone surrogate
    if (c < 0x80) {
      out[n++] = c;
    } else if (c < 0x800) {
      out[n++] = 0xc0 | (c >> 6);
      out[n++] = 0x80 | (c & 0x3f);
    } else if (c < 0x10000) {
      out[n++] = 0xe0 | (c >> 12);
      out[n++] = 0x80 | ((c >> 6) & 0x3f);
      out[n++] = 0x80 | (c & 0x3f);
    } else {
      out[n++] = 0xf0 | (c >> 18);
      out[n++] = 0x80 | ((c >> 12) & 0x3f);
      out[n++] = 0x80 | ((c >> 6) & 0x3f);
      out[n++] = 0x80 | (c & 0x3f);
    }
  }
  return out.slice(0, n);
}

// The WHATWG decoder: each maximal invalid subpart becomes U+FFFD (or throws
// with `fatal`).
function decodeUtf8(bytes, fatal) {
  let out = "";
  const chunk = [];
  const bad = () => {
    if (fatal) throw new TypeError("The encoded data was not valid UTF-8");
    chunk.push(0xfffd);
  };
  for (let i = 0; i < bytes.length; ) {
    const b = bytes[i];
    let need = 0;
    let cp = 0;
    let lower = 0x80;
    let upper = 0xbf;
    if (b < 0x80) {
      chunk.push(b);
      i++;
    } else {
      if (b >= 0xc2 && b <= 0xdf) {
        need = 1;
        cp = b & 0x1f;
      } else if (b >= 0xe0 && b <= 0xef) {
        need = 2;
        cp = b & 0x0f;
        if (b === 0xe0) lower = 0xa0;
        if (b === 0xed) upper = 0x9f;
      } else if (b >= 0xf0 && b <= 0xf4) {
        need = 3;
        cp = b & 0x07;
        if (b === 0xf0) lower = 0x90;
        if (b === 0xf4) upper = 0x8f;
      } else {
        bad();
        i++;
        continue;
      }
      let j = i + 1;
      let ok = true;
      for (let k = 0; k < need; k++, j++) {
        const c = bytes[j];
        if (j >= bytes.length || c < lower || c > upper) {
          ok = false;
          break;
        }
        lower = 0x80;
        upper = 0xbf;
        cp = (cp << 6) | (c & 0x3f);
      }
      if (ok) {
        if (cp >= 0x10000) {
          cp -= 0x10000;
          chunk.push(0xd800 + (cp >> 10), 0xdc00 + (cp & 0x3ff));
        } else {
          chunk.push(cp);
        }
      } else {
        bad();
      }
      i = j;
    }
    if (chunk.length >= 8192) {
      out += String.fromCharCode.apply(null, chunk);
      chunk.length = 0;
    }
  }
  return out + String.fromCharCode.apply(null, chunk);
}

function asBytes(input) {
  if (input === undefined) return new Uint8Array(0);
  if (input instanceof Uint8Array) return input;
  if (ArrayBuffer.isView(input)) return new Uint8Array(input.buffer, input.byteOffset, input.byteLength);
  if (input instanceof ArrayBuffer) return new Uint8Array(input);
  throw new TypeError("TextDecoder.decode: expected an ArrayBuffer or a view of one");
}

const UTF8_LABELS = ["utf-8", "utf8", "unicode-1-1-utf-8"];

class TextEncoder {
  get encoding() {
    return "utf-8";
  }
  encode(input = "") {
    return encodeUtf8(input);
  }
  encodeInto(input, destination) {
    const bytes = encodeUtf8(input);
    // Whole characters only: cut before a continuation byte.
    let written = Math.min(bytes.length, destination.length);
    while (written > 0 && written < bytes.length && (bytes[written] & 0xc0) === 0x80) written--;
    destination.set(bytes.subarray(0, written));
    const read = decodeUtf8(bytes.subarray(0, written), false).length;
    return { read, written };
  }
}

class TextDecoder {
  constructor(label = "utf-8", options = {}) {
    if (!UTF8_LABELS.includes(String(label).trim().toLowerCase())) {
      throw new RangeError(`TextDecoder: only UTF-8 is supported, not "${label}"`);
    }
    this.fatal = Boolean(options.fatal);
    this.ignoreBOM = Boolean(options.ignoreBOM);
  }
  get encoding() {
    return "utf-8";
  }
  decode(input) {
    let bytes = asBytes(input);
    if (!this.ignoreBOM && bytes.length >= 3 && bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf) {
      bytes = bytes.subarray(3);
    }
    return decodeUtf8(bytes, this.fatal);
  }
}

if (typeof globalThis.TextEncoder !== "function") globalThis.TextEncoder = TextEncoder;
if (typeof globalThis.TextDecoder !== "function") globalThis.TextDecoder = TextDecoder;
