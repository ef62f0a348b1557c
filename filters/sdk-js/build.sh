#!/usr/bin/env bash
# Builds a JavaScript filter into a component: build.sh SOURCE_DIR OUTPUT.wasm
# (see build.mjs for the layout of SOURCE_DIR). The toolchain comes from
# scripts/setup-languages.sh.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
if [ $# -ne 2 ]; then echo "usage: $0 SOURCE_DIR OUTPUT.wasm" >&2; exit 2; fi
if [ ! -d "$here/../.toolchains/js/node_modules/@bytecodealliance/componentize-js" ]; then
  echo "the JavaScript toolchain is missing: run scripts/setup-languages.sh" >&2; exit 1
fi
mkdir -p "$(dirname "$2")"
exec node "$here/build.mjs" "$1" "$2"
