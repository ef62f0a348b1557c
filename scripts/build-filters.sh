#!/usr/bin/env bash
# Builds the filter components in filters/ for wasm32-wasip2, into
# filters/target/wasm32-wasip2/release/<crate_name>.wasm.
set -euo pipefail
cd "$(dirname "$0")/../filters"
cargo build --release --target wasm32-wasip2 --quiet
