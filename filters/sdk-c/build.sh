#!/usr/bin/env bash
# Builds a C filter into a component: build.sh SOURCE_DIR OUTPUT.wasm
#
# Every .c file of SOURCE_DIR is compiled with the SDK (weir_filter.h) and the
# bindings wit-bindgen generates from wit/filter.wit. The linker drops what a
# filter does not call, so the component imports a capability (key-value,
# secrets) only when the filter uses it, and weir asks a grant for it only then.
# Extra compiler flags (e.g. -I, -D) may come in CFLAGS.
# The toolchain comes from scripts/setup-languages.sh.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
if [ $# -ne 2 ]; then echo "usage: $0 SOURCE_DIR OUTPUT.wasm" >&2; exit 2; fi
source_dir="$(cd "$1" && pwd)"
mkdir -p "$(dirname "$2")"
output="$(cd "$(dirname "$2")" && pwd)/$(basename "$2")"
tools="$here/../.toolchains"
wit="$here/../../wit/filter.wit"
for tool in "$tools/wit-bindgen/bin/wit-bindgen" "$tools/wasm/bin/wasm-tools" "$tools/adapter/wasi_snapshot_preview1.reactor.wasm"; do
  [ -e "$tool" ] || { echo "$tool is missing: run scripts/setup-languages.sh" >&2; exit 1; }
done
command -v clang >/dev/null || { echo "clang is missing: run scripts/setup-languages.sh" >&2; exit 1; }
shopt -s nullglob
sources=("$source_dir"/*.c)
[ ${#sources[@]} -gt 0 ] || { echo "no .c files in $source_dir" >&2; exit 2; }

work=$(mktemp -d "${TMPDIR:-/tmp}/weir-c-build-XXXXXX")
trap 'rm -rf "$work"' EXIT
if ! out=$("$tools/wit-bindgen/bin/wit-bindgen" c "$wit" --world filter --out-dir "$work/gen" 2>&1); then
  echo "$out" >&2; exit 1
fi

# Debian's wasi-libc targets WASI preview1 (stdio, the allocator's memory):
# the reactor adapter turns those imports into WASI 0.2, which weir links.
# shellcheck disable=SC2086
clang --target=wasm32-wasi --sysroot=/usr -Os -s -mexec-model=reactor -std=c11 \
  -Wall -Wextra -Wno-unused-parameter -Wno-missing-field-initializers \
  -I"$here" -I"$work/gen" ${CFLAGS:-} \
  -o "$work/core.wasm" "${sources[@]}" "$here"/weir_*.c "$work/gen/filter.c" \
  "$work/gen/filter_component_type.o"
"$tools/wasm/bin/wasm-tools" component new "$work/core.wasm" \
  --adapt "wasi_snapshot_preview1=$tools/adapter/wasi_snapshot_preview1.reactor.wasm" -o "$output"
