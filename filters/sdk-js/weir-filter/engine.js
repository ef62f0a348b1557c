// The engine the filter is built for, "quickjs" or "starlingmonkey" (build.mjs
// replaces __WEIR_ENGINE__), and the WIT types whose JavaScript form differs
// between the two.

// eslint-disable-next-line no-undef
export const ENGINE = typeof __WEIR_ENGINE__ === "string" ? __WEIR_ENGINE__ : "starlingmonkey";

/**
 * A JavaScript number as a WIT u64 or s64 argument: a BigInt for
 * StarlingMonkey, a number for QuickJS (whose 64-bit integers are numbers).
 */
export const int64 =
  ENGINE === "quickjs"
    ? (n) => {
        const value = Number(n);
        if (!Number.isInteger(value)) throw new RangeError(`${n} is not an integer`);
        return value;
      }
    : (n) => BigInt(n);
