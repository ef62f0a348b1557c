#!/usr/bin/env bash
# Builds `wasmtime` (the crates.io package wasmtime-cli) for the benchmark's
# W7 rows, which run `wasmtime serve` beside weir, and prints the binary's
# path. The version is the wasmtime weir links (Cargo.lock), so both rows run
# the same runtime. Built once into a per-user cache and reused afterwards:
#
#   ${XDG_CACHE_HOME:-~/.cache}/weir/wasmtime-<version>/bin/wasmtime
#
# With only the features `wasmtime serve` needs: `serve` (wasi:http and the
# component model), `run` (the options serve shares with run), `cranelift`
# (to compile the component), `pooling-allocator` (serve's default
# allocator where the address space allows, as in the released binaries)
# and `component-model-async` (48.0.8's serve does not compile without it:
# it names `futures` and `ProxyPre::P3` unconditionally). No cache,
# wasi-nn, wasi-keyvalue, wasi-config, wasi-tls, winch, GC or debugging
# support. A build from scratch takes some 15 minutes on 2 cores;
# it runs under `nice -n 19`.
set -euo pipefail
cd "$(dirname "$0")/.."

version=$(awk '/^name = "wasmtime"$/ { getline; gsub(/version = |"/, ""); print; exit }' Cargo.lock)
[ -n "$version" ] || { echo "no wasmtime in Cargo.lock" >&2; exit 1; }
root="${XDG_CACHE_HOME:-$HOME/.cache}/weir/wasmtime-$version"
bin="$root/bin/wasmtime"

if ! "$bin" --version 2>/dev/null | grep -Eq "^wasmtime $version( |$)"; then
  echo "building wasmtime-cli $version into $root (once)" >&2
  nice -n 19 cargo install --locked --quiet wasmtime-cli --version "=$version" \
    --no-default-features --features serve,run,cranelift,pooling-allocator,component-model-async \
    --root "$root" >&2
fi
echo "$bin"
