#!/usr/bin/env bash
# Builds the filter (the *.go files here, package main) into
# build/{{name}}.wasm with weir's Go SDK (`weir filter build` runs this).
# WEIR_SDK_GO overrides where it is.
set -euo pipefail
cd "$(dirname "$0")"
sdk="${WEIR_SDK_GO:-{{sdk}}}"
"$sdk/build.sh" . build/{{name}}.wasm
