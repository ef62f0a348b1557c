#!/usr/bin/env bash
# Builds the filter into build/{{name}}.wasm with weir's JavaScript SDK
# (`weir filter build` runs this). WEIR_SDK_JS overrides where it is.
set -euo pipefail
cd "$(dirname "$0")"
sdk="${WEIR_SDK_JS:-{{sdk}}}"
"$sdk/build.sh" . build/{{name}}.wasm
