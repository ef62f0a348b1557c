// Secrets (grants.secrets). Declare "secrets" in the filter's package.json
// (`"weir": { "capabilities": ["secrets"] }`).
//
//   import * as secrets from "weir-filter/secrets";
//   const key = secrets.getString("api_key");

import { get as witGet } from "weir:filter/secrets@0.1.0";
import { bytes, text } from "./index.js";

/** The secret's bytes; throws an Error naming what is missing when it is not granted. */
export function get(name) {
  try {
    return bytes(witGet(name));
  } catch (error) {
    throw new Error(String(error?.payload ?? error?.message ?? error));
  }
}

/** The secret as text. */
export function getString(name) {
  return text(get(name));
}
