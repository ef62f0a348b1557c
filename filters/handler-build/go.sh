#!/usr/bin/env bash
# Builds a Go handler into a component: go.sh SOURCE_DIR OUTPUT.wasm
#
# SOURCE_DIR holds the handler's `package main` (*.go, with an empty
# `func main() {}`), which calls export_wasi_http_incoming_handler.Export
# with its handle function in an init function, over the `wasi:http`
# bindings `wit-bindgen go` generates for the handler world
# (filters/handler-wit), in the module `wit_component`:
#   import incoming "wit_component/export_wasi_http_incoming_handler"
#   import "wit_component/wasi_http_types"
# Standard library only: there is no module proxy here. The toolchain comes
# from scripts/setup-languages.sh.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
if [ $# -ne 2 ]; then echo "usage: $0 SOURCE_DIR OUTPUT.wasm" >&2; exit 2; fi
source_dir="$(cd "$1" && pwd)"
mkdir -p "$(dirname "$2")"
output="$(cd "$(dirname "$2")" && pwd)/$(basename "$2")"
tools="$(cd "$here/../.toolchains" 2>/dev/null && pwd || echo "$here/../.toolchains")"
wit="$here/../handler-wit"
for tool in "$tools/wit-bindgen/bin/wit-bindgen" "$tools/wasm/bin/wasm-tools" "$tools/wasm/bin/go" \
  "$tools/go-pkg/go.mod" "$tools/adapter/wasi_snapshot_preview1.reactor.wasm"; do
  [ -e "$tool" ] || { echo "$tool is missing: run scripts/setup-languages.sh" >&2; exit 1; }
done
shopt -s nullglob
sources=("$source_dir"/*.go)
[ ${#sources[@]} -gt 0 ] || { echo "no .go files in $source_dir" >&2; exit 2; }

# One module, `wit_component` (wit-bindgen's name): the generated bindings,
# one package per interface, export_wasi_http_incoming_handler (go/export.go)
# and, at the root, package main: the generated exports and the handler.
work=$(mktemp -d "${TMPDIR:-/tmp}/weir-handler-go-XXXXXX")
trap 'rm -rf "$work"' EXIT
if ! out=$("$tools/wit-bindgen/bin/wit-bindgen" go "$wit" -w handler --out-dir "$work/gen" 2>&1); then
  echo "$out" >&2; exit 1
fi
mkdir -p "$work/mod/export_wasi_http_incoming_handler"
for dir in "$work"/gen/*/; do cp -r "$dir" "$work/mod/"; done
cp "$here/go/export.go" "$work/mod/export_wasi_http_incoming_handler/"
# The handler brings its own (empty) main.
sed '/^func main() {}$/d' "$work/gen/wit_exports.go" >"$work/mod/wit_exports.go"
cp "${sources[@]}" "$work/mod/"
cat >"$work/mod/go.mod" <<MOD
module wit_component

go 1.25

require go.bytecodealliance.org/pkg v0.4.0

replace go.bytecodealliance.org/pkg => $tools/go-pkg
MOD

cd "$work/mod"
GOTOOLCHAIN=local GOPROXY=off GOFLAGS=-mod=mod GOOS=wasip1 GOARCH=wasm \
  "$tools/wasm/bin/go" build -buildmode=c-shared -ldflags='-checklinkname=0 -s -w' -trimpath \
  -o ../core.wasm .
cd "$work"
"$tools/wasm/bin/wasm-tools" component embed "$wit" -w handler core.wasm -o embedded.wasm
"$tools/wasm/bin/wasm-tools" component new embedded.wasm \
  --adapt "wasi_snapshot_preview1=$tools/adapter/wasi_snapshot_preview1.reactor.wasm" -o "$output"
