#!/usr/bin/env bash
# Builds the filter into build/{{name}}.wasm with weir's Python SDK
# (`weir filter build` runs this). WEIR_SDK_PYTHON overrides where it is.
set -euo pipefail
cd "$(dirname "$0")"
sdk="${WEIR_SDK_PYTHON:-{{sdk}}}"
"$sdk/build.sh" . build/{{name}}.wasm
