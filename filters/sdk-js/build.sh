#!/usr/bin/env bash
# Builds a JavaScript filter into a component: build.sh SOURCE_DIR OUTPUT.wasm
# (see build.mjs for the layout of SOURCE_DIR and the choice of engine:
# QuickJS by default, StarlingMonkey with "weir": { "engine": "starlingmonkey" }
# in the filter's package.json or WEIR_JS_ENGINE=starlingmonkey). The
# toolchain comes from scripts/setup-languages.sh.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
if [ $# -ne 2 ]; then echo "usage: $0 SOURCE_DIR OUTPUT.wasm" >&2; exit 2; fi
tools="$here/../.toolchains"
if [ ! -d "$tools/js/node_modules/@bytecodealliance/componentize-js" ] \
  || [ ! -d "$tools/js/node_modules/componentize-qjs" ] || [ ! -x "$tools/wasm/bin/wasm-tools" ]; then
  echo "the JavaScript toolchain is missing: run scripts/setup-languages.sh" >&2; exit 1
fi
mkdir -p "$(dirname "$2")"
exec node "$here/build.mjs" "$1" "$2"
