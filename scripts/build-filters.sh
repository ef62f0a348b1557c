#!/usr/bin/env bash
# Builds the filter components in filters/ (target wasm32-wasip2).
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --manifest-path filters/Cargo.toml --quiet
