#!/usr/bin/env bash
# Builds the filter (every .c file here) into build/{{name}}.wasm with weir's
# C SDK (`weir filter build` runs this). WEIR_SDK_C overrides where it is.
set -euo pipefail
cd "$(dirname "$0")"
sdk="${WEIR_SDK_C:-{{sdk}}}"
"$sdk/build.sh" . build/{{name}}.wasm
