#!/usr/bin/env bash
# Builds the handler into build/{{name}}.wasm (`weir handler build` does the
# same). Needs the target: rustup target add wasm32-wasip2
set -euo pipefail
cd "$(dirname "$0")"
cargo build --release --target wasm32-wasip2 --target-dir target
mkdir -p build
cp target/wasm32-wasip2/release/{{crate}}.wasm build/{{name}}.wasm
