#!/usr/bin/env bash
# Installs what building and testing weir needs on a fresh Debian machine with
# rustup: cmake (Pingora's zlib-ng), OpenSSL headers (TLS), pkg-config, curl and the
# openssl command (the demo sends requests and signs its sample token),
# redis-server (weir-kv's tests run against a real one), and the wasm32-wasip2 target
# (filters). Idempotent and quiet when all is there.
set -euo pipefail

need_apt=()
command -v cmake >/dev/null || need_apt+=(cmake)
command -v pkg-config >/dev/null || need_apt+=(pkg-config)
command -v curl >/dev/null || need_apt+=(curl)
command -v openssl >/dev/null || need_apt+=(openssl)
dpkg -s libssl-dev >/dev/null 2>&1 || need_apt+=(libssl-dev)
command -v redis-server >/dev/null || need_apt+=(redis-server)
# promtool (package prometheus) checks the /metrics scrape in the e2e tests.
command -v promtool >/dev/null || need_apt+=(prometheus)
if [ ${#need_apt[@]} -gt 0 ]; then
  echo "setup: installing ${need_apt[*]}"
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need_apt[@]}" >/dev/null
fi
if ! rustup target list --installed | grep -qx wasm32-wasip2; then
  echo "setup: adding the wasm32-wasip2 target"
  rustup target add wasm32-wasip2
fi
rustup component list --installed | grep -q '^clippy' || rustup component add clippy
rustup component list --installed | grep -q '^rustfmt' || rustup component add rustfmt
