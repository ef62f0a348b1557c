#!/usr/bin/env bash
# The whole test suite: formatting, lints, every shipped config checked by
# `weir check`, unit tests and end-to-end tests against the real binary.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/setup.sh
# The JavaScript, Python, C and Go filter toolchains (the demo needs none).
scripts/setup-languages.sh

echo "== cargo fmt --check"
cargo fmt --all --check
cargo fmt --manifest-path filters/Cargo.toml --all --check

echo "== filters: build and clippy"
scripts/build-filters.sh
scripts/build-language-filters.sh
(cd filters && cargo clippy --release --target wasm32-wasip2 --target-dir target --quiet -- -D warnings)
# Filter crates' own unit tests of pure logic run natively (their host calls
# are only linked into the Wasm build).
host=$(rustc -vV | sed -n 's/^host: //p')
(cd filters && cargo test --target "$host" --target-dir target --quiet -p key-auth -p cors -p jwt-auth -p rate-limit -p json-transform)

echo "== clippy"
cargo clippy --workspace --all-targets --quiet -- -D warnings

echo "== build (one dev profile for the binary, tests and benches)"
cargo build --workspace --all-targets --quiet

echo "== weir check over config/"
for config in config/*.yaml; do
  "${CARGO_TARGET_DIR:-target}/debug/weir" check --config "$config"
done

echo "== tests"
cargo test --workspace --quiet
