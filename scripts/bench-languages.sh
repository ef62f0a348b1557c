#!/usr/bin/env bash
# One table of what a filter costs per language (docs/languages.md): the
# reference filter (filters/reference/) built from Rust, JavaScript,
# Python, C and Go, each build timed, then measured through weir's host by the
# `filter_languages` bench: component size, build time, first load
# (compile), start with the compiled-artifact cache, warm call, fresh
# instance + call.
#
# Build times: JavaScript and Python rebuild the whole component every time;
# for Rust, the time to rebuild the filter crate after an edit (its
# dependencies already built, as in a working checkout).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
scripts/setup-languages.sh
scripts/build-filters.sh

out=$(mktemp -d "${TMPDIR:-/tmp}/weir-bench-languages-XXXXXX")
trap 'rm -rf "$out"' EXIT
seconds() { awk -v s="$1" -v e="$(date +%s.%N)" 'BEGIN { printf "%.1f", e - s }'; }

started=$(date +%s.%N)
touch filters/reference/rust/src/lib.rs
(cd filters && cargo build --release --target wasm32-wasip2 --target-dir target --quiet -p reference-rust)
rust_secs=$(seconds "$started")

started=$(date +%s.%N)
filters/sdk-js/build.sh filters/reference/js "$out/reference-js.wasm"
js_secs=$(seconds "$started")

started=$(date +%s.%N)
filters/sdk-python/build.sh filters/reference/python "$out/reference-python.wasm"
python_secs=$(seconds "$started")

started=$(date +%s.%N)
filters/sdk-c/build.sh filters/reference/c "$out/reference-c.wasm"
c_secs=$(seconds "$started")

# Go: with Go's build cache warm (as in a working checkout); the first build
# of the standard library for wasip1 takes about 20 s more.
started=$(date +%s.%N)
filters/sdk-go/build.sh filters/reference/go "$out/reference-go.wasm"
go_secs=$(seconds "$started")

cargo test -p weir-wasm --bench filter_languages --quiet -- --bench \
  "rust=$PWD/filters/target/wasm32-wasip2/release/reference_rust.wasm:$rust_secs" \
  "js=$out/reference-js.wasm:$js_secs" \
  "python=$out/reference-python.wasm:$python_secs" \
  "c=$out/reference-c.wasm:$c_secs" \
  "go=$out/reference-go.wasm:$go_secs"
