#!/usr/bin/env bash
# Builds a JavaScript handler into a component: js.sh SOURCE_DIR OUTPUT.wasm
# (see js.mjs). The toolchain comes from scripts/setup-languages.sh.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
if [ $# -ne 2 ]; then echo "usage: $0 SOURCE_DIR OUTPUT.wasm" >&2; exit 2; fi
tools="$here/../.toolchains"
if [ ! -d "$tools/js/node_modules/@bytecodealliance/componentize-js" ] || [ ! -d "$tools/js/node_modules/rolldown" ]; then
  echo "the JavaScript toolchain is missing: run scripts/setup-languages.sh" >&2; exit 1
fi
mkdir -p "$(dirname "$2")"
exec node "$here/js.mjs" "$1" "$2"
