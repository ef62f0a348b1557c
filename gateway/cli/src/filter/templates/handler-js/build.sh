#!/usr/bin/env bash
# Builds the handler into build/{{name}}.wasm with weir's handler build
# (`weir handler build` runs this). WEIR_HANDLER_BUILD overrides where it is.
set -euo pipefail
cd "$(dirname "$0")"
build="${WEIR_HANDLER_BUILD:-{{sdk}}}"
"$build/js.sh" . build/{{name}}.wasm
