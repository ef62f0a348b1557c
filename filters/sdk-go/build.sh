#!/usr/bin/env bash
# Builds a Go filter into a component: build.sh SOURCE_DIR OUTPUT.wasm
#
# SOURCE_DIR holds the filter's `package main` (*.go, with an empty
# `func main() {}`), which imports "weirfilter" and calls weirfilter.Export in
# an init function. Standard library only: there is no module proxy here.
# The linker drops what a filter does not call, so the component imports a
# capability (key-value, secrets) only when the filter uses it.
# The toolchain comes from scripts/setup-languages.sh.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
if [ $# -ne 2 ]; then echo "usage: $0 SOURCE_DIR OUTPUT.wasm" >&2; exit 2; fi
source_dir="$(cd "$1" && pwd)"
mkdir -p "$(dirname "$2")"
output="$(cd "$(dirname "$2")" && pwd)/$(basename "$2")"
tools="$(cd "$here/../.toolchains" 2>/dev/null && pwd || echo "$here/../.toolchains")"
wit="$here/../../wit/filter.wit"
for tool in "$tools/wit-bindgen/bin/wit-bindgen" "$tools/wasm/bin/wasm-tools" "$tools/wasm/bin/go" \
  "$tools/go-pkg/go.mod" "$tools/adapter/wasi_snapshot_preview1.reactor.wasm"; do
  [ -e "$tool" ] || { echo "$tool is missing: run scripts/setup-languages.sh" >&2; exit 1; }
done
shopt -s nullglob
sources=("$source_dir"/*.go)
[ ${#sources[@]} -gt 0 ] || { echo "no .go files in $source_dir" >&2; exit 2; }

# One module, `weirfilter`: the SDK at its root, the generated bindings under
# bindings/ (renamed from wit-bindgen's `wit_component` module), the filter's
# package main with the generated exports under cmd/filter/.
work=$(mktemp -d "${TMPDIR:-/tmp}/weir-go-build-XXXXXX")
trap 'rm -rf "$work"' EXIT
if ! out=$("$tools/wit-bindgen/bin/wit-bindgen" go "$wit" -w filter --out-dir "$work/gen" 2>&1); then
  echo "$out" >&2; exit 1
fi
mkdir -p "$work/bindings" "$work/cmd/filter"
for dir in "$work"/gen/*/; do
  [ "$(basename "$dir")" = export_wit_world ] || cp -r "$dir" "$work/bindings/"
done
mkdir -p "$work/bindings/export_wit_world"
cp "$here/exports/exports.go" "$work/bindings/export_wit_world/"
# The filter brings its own (empty) main.
sed '/^func main() {}$/d' "$work/gen/wit_exports.go" >"$work/cmd/filter/wit_exports.go"
find "$work/bindings" "$work/cmd" -name '*.go' -print0 \
  | xargs -0 sed -i 's|"wit_component/|"weirfilter/bindings/|'
cp "$here"/*.go "$work/"
cp "${sources[@]}" "$work/cmd/filter/"
cat >"$work/go.mod" <<MOD
module weirfilter

go 1.25

require go.bytecodealliance.org/pkg v0.4.0

replace go.bytecodealliance.org/pkg => $tools/go-pkg
MOD

cd "$work"
GOTOOLCHAIN=local GOPROXY=off GOFLAGS=-mod=mod GOOS=wasip1 GOARCH=wasm \
  "$tools/wasm/bin/go" build -buildmode=c-shared -ldflags='-checklinkname=0 -s -w' -trimpath \
  -o core.wasm ./cmd/filter
"$tools/wasm/bin/wasm-tools" component embed "$wit" -w filter core.wasm -o embedded.wasm
"$tools/wasm/bin/wasm-tools" component new embedded.wasm \
  --adapt "wasi_snapshot_preview1=$tools/adapter/wasi_snapshot_preview1.reactor.wasm" -o "$output"
