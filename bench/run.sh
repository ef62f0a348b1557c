#!/usr/bin/env bash
# weir beside bare Pingora, nginx and HAProxy on loopback: workloads W1-W6,
# and W7, routes answered by wasi:http handlers, beside `wasmtime serve`;
# requests/s, p50/p99 latency and each proxy's CPU time per request, as a
# markdown table printed and written into docs/benchmarks.md. Not part of CI.
#
#   bench/run.sh [--seconds N] [--rounds N] [--only W1,W2,...] [--profile] [--no-write] [--no-work-stealing]
#
#   --seconds N   length of one wrk run (default 10)
#   --rounds N    runs per proxy and workload; the table gives medians (default 3)
#   --only LIST   run only these workloads (prints the table, does not write the doc)
#   --profile     perf-record bare Pingora and weir under W1 load; print where their CPU goes
#   --no-write    print only; leave docs/benchmarks.md as it is
#   --no-work-stealing  weir with server.work_stealing: false, bare Pingora
#                 likewise (prints the table, does not write the doc)
#
# Installs what it needs from Debian packages when missing (nginx, its njs
# module, HAProxy, wrk; perf with --profile), builds weir, the bare Pingora
# proxy and the built-in filters (dev profile), and for W7 `wasmtime` from
# crates.io once into a per-user cache (bench/wasmtime.sh), then runs the
# benchmark binary tests/benches/proxies (see docs/benchmarks.md for what
# each workload does).
set -euo pipefail
cd "$(dirname "$0")/.."

profile=no
only=
previous=
for arg in "$@"; do
  [ "$arg" = --profile ] && profile=yes
  [ "$previous" = --only ] && only=$arg
  previous=$arg
done

# Debian packages: install only the missing ones.
packages=(nginx libnginx-mod-http-js haproxy wrk)
[ "$profile" = yes ] && packages+=(linux-perf)
missing=()
for package in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
done
if [ "${#missing[@]}" -gt 0 ]; then
  echo "installing ${missing[*]}"
  sudo=()
  [ "$(id -u)" -ne 0 ] && sudo=(sudo)
  "${sudo[@]}" apt-get update -qq
  "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

# The dev profile: weir's hot crates and every dependency at opt-level 3,
# dependencies without debug assertions (see Cargo.toml). The same build as
# the test command's, to the letter: cargo resolves a dependency's features
# over the packages a command names, so `-p weir` alone would build the
# whole dependency tree again. cargo test --bench does not build other
# packages' binaries, hence the build first.
scripts/build-filters.sh
cargo build --workspace --all-targets --quiet

# W7's wasmtime serve rows: without wasmtime, the benchmark runs weir's rows
# and says why the others are missing.
if [ -z "$only" ] || [[ ",${only^^}," == *,W7,* ]]; then
  if bin=$(bench/wasmtime.sh); then
    export WASMTIME_BIN="$bin"
  else
    echo "wasmtime did not build: W7 runs without its wasmtime serve rows" >&2
  fi
fi

export BENCH_COMMAND="bench/run.sh${*:+ $*}"
exec cargo test --workspace --bench proxies -- "$@"
