#!/usr/bin/env bash
# Builds the filter components in filters/ for wasm32-wasip2, into
# filters/target/wasm32-wasip2/release/<crate_name>.wasm.
set -euo pipefail
cd "$(dirname "$0")/../filters"
# Always filters/target, even when CARGO_TARGET_DIR points elsewhere (a CI
# cache): the tests and configs load the components from there.
cargo build --release --target wasm32-wasip2 --target-dir target --quiet
