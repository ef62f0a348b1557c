#!/usr/bin/env bash
# Instructions per request of bare Pingora and weir (W1; W1 with metrics and
# the JSON access log; W2, the built-in chain, beside the same route without
# filters; W1's route behind three no-op filters, the floor under any
# chain; W4, a 10 KB JSON response passed through and transformed by
# json-transform), counted by valgrind's callgrind: unlike CPU time on a shared
# machine, the count is the same from run to run, so a change to the request
# path shows as a number, not as noise. Not part of CI.
#
#   bench/instructions.sh [--requests N] [--keep DIR] [--baseline WEIR]
#
#   --requests N       requests counted per proxy (default 2000)
#   --keep DIR         keep the callgrind files in DIR (callgrind_annotate
#                      DIR/w1.callgrind.1 shows where the instructions go)
#   --baseline WEIR    also count another weir binary (an earlier commit's,
#                      copied aside) on the same rows, in the same run, and
#                      print both side by side
#
# Each proxy runs alone under callgrind, one worker thread, in front of
# demo-upstream; a client sends 200 requests to warm it, then N more on one
# keep-alive connection with counting on, 512 B responses. Instructions are
# not time: the kernel's share is not counted, nor cache misses, and a
# `rep movsb` copy counts one per byte.
# weir runs with `server.max_filter_instances: 4`: the pool's address space
# must fit in what valgrind can map (W2's three filters need three).
set -euo pipefail
cd "$(dirname "$0")/.."

requests=2000
keep=
baseline=
while [ $# -gt 0 ]; do
  case "$1" in
    --requests) requests="$2"; shift 2 ;;
    --keep) keep="$2"; shift 2 ;;
    --baseline) baseline="$2"; shift 2 ;;
    *) echo "usage: bench/instructions.sh [--requests N] [--keep DIR] [--baseline WEIR]" >&2; exit 2 ;;
  esac
done

if ! command -v valgrind >/dev/null; then
  sudo=()
  [ "$(id -u)" -ne 0 ] && sudo=(sudo)
  "${sudo[@]}" apt-get update -qq
  "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends valgrind
fi

scripts/build-filters.sh
# The test command's build (the same features, so nothing is built twice).
cargo build -q --workspace --all-targets
target_dir=$(cargo metadata --format-version 1 --no-deps | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')
bin="$target_dir/debug"
filters="$PWD/filters/target/wasm32-wasip2/release"
cache="$target_dir/weir-bench-filter-cache"

work=$(mktemp -d)
pids=()
cleanup() {
  for pid in "${pids[@]}"; do
    kill -9 "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
  if [ -n "$keep" ]; then
    mkdir -p "$keep"
    cp "$work"/*.callgrind* "$keep"/
  fi
  rm -rf "$work"
}
trap cleanup EXIT

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# Sends N GET requests for PATH (default the 512 B answer) on one
# keep-alive connection, with W2's bearer token; fails on any non-200.
cat >"$work/client.py" <<'PY'
import http.client, sys
port, n = int(sys.argv[1]), int(sys.argv[2])
token = open(sys.argv[3]).read().strip()
path = sys.argv[4] if len(sys.argv) > 4 else "/fixed?bytes=512"
c = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
for _ in range(n):
    c.request("GET", path, headers={"authorization": f"Bearer {token}"})
    r = c.getresponse()
    r.read()
    if r.status != 200:
        sys.exit(f"status {r.status}")
PY

# W2's token (as tests/benches/common/w2.rs makes it): HS256, issuer bench,
# audience api, subject user-1, valid for an hour.
export WEIR_BENCH_HMAC=bench-hmac-secret-of-32-bytes-at-least!
python3 - >"$work/token" <<'PY'
import base64, hashlib, hmac, json, os, time
b64 = lambda b: base64.urlsafe_b64encode(b).rstrip(b"=").decode()
head = b64(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
claims = {"iss": "bench", "aud": "api", "sub": "user-1", "exp": int(time.time()) + 3600}
body = b64(json.dumps(claims).encode())
key = os.environ["WEIR_BENCH_HMAC"].encode()
print(f"{head}.{body}." + b64(hmac.new(key, f"{head}.{body}".encode(), hashlib.sha256).digest()))
PY

wait_up() {
  for _ in $(seq 1 240); do
    curl -s -o /dev/null "http://127.0.0.1:$1/fixed" && return 0
    sleep 0.5
  done
  echo "nothing answers on port $1" >&2
  return 1
}

upstream_port=$(free_port)
"$bin/demo-upstream" "127.0.0.1:$upstream_port" >"$work/upstream.log" 2>&1 &
pids+=($!)
wait_up "$upstream_port"

# count NAME COMMAND...: instructions per request of the proxy COMMAND
# starts on $port, for requests to $path (the 512 B answer unless set).
path=/fixed?bytes=512
count() {
  local name=$1
  shift
  # Filters' code is written at run time: valgrind must look for it.
  valgrind --tool=callgrind --instr-atstart=no --smc-check=all-non-file \
    --callgrind-out-file="$work/$name.callgrind" "$@" >"$work/$name.log" 2>&1 &
  local pid=$!
  pids+=("$pid")
  wait_up "$port"
  python3 "$work/client.py" "$port" 200 "$work/token" "$path"
  callgrind_control -i on "$pid" >/dev/null 2>&1
  python3 "$work/client.py" "$port" "$requests" "$work/token" "$path"
  callgrind_control -i off "$pid" >/dev/null 2>&1
  callgrind_control -d "$pid" >/dev/null 2>&1
  kill -9 "$pid"
  wait "$pid" 2>/dev/null || true
  # The dump has the counts; its file is named after it (`.1`).
  local total
  total=$(callgrind_annotate "$(ls -S "$work/$name".callgrind* | head -1)" 2>/dev/null |
    awk '/PROGRAM TOTALS/ {gsub(",", "", $1); print $1; exit}')
  if [ -z "$total" ]; then
    echo "no instruction count for $name; its log:" >&2
    tail -5 "$work/$name.log" >&2
    return 1
  fi
  echo $((total / requests))
}

# weir_config SECTIONS ROUTE_FILTERS
weir_config() {
  cat <<YAML
server:
  threads: 1
  max_filter_instances: 4
  cache_dir: $cache
listeners:
  - name: main
    address: 127.0.0.1:$port
upstreams:
  app:
    targets: [{ address: 127.0.0.1:$upstream_port }]
$1
routes:
  - name: all
    match: { path: { prefix: / } }
    upstream: app
$2
YAML
}

# W2: the route behind jwt-auth + rate-limit + headers, and the route as
# W1 has it with the same filters loaded. `weir check` compiles the filters
# into the cache first: compiling them under valgrind takes minutes.
w2_sections=$(
  cat <<YAML
secrets:
  jwt-hmac: { env: WEIR_BENCH_HMAC }
key_value:
  limits:
    memory: { max_entries: 100000 }
filters:
  auth:
    module: $filters/jwt_auth.wasm
    grants: { secrets: [jwt-hmac], http: { allow: [] } }
    config:
      providers:
        - { issuer: bench, audiences: [api], algorithms: [HS256], keys: { secret: jwt-hmac } }
      forward: [{ claim: sub, context: sub }]
  limit:
    module: $filters/rate_limit.wasm
    grants: { key_value: [limits] }
    config:
      store: limits
      limits: [{ name: per-user, limit: 1000000000, window: 1h, key: { context: sub } }]
  tag:
    module: $filters/headers.wasm
    config:
      request: { set: { x-user-id: "\${ctx.sub}" } }
      response: { set: { x-served-by: weir } }
YAML
)
# W4: json-transform, loaded (and on the route in the second row).
w4_sections=$(
  cat <<YAML
filters:
  json:
    module: $filters/json_transform.wasm
    config:
      response:
        remove: [/debug]
        redact: [/user/email]
        rename: { /user/id: /user/user_id }
        add: { /meta/served_by: weir }
      create_parents: true
YAML
)

# The floor under any chain: the no-op filter (filters/testing/test-noop),
# which calls nothing in weir, three times on W1's route: in the request
# phase only, then in the request and the response phase (the route of
# three filters on request and response headers). Each config loads only
# the filters its route runs: every loaded filter keeps an instance.
noop_filters() {
  echo "filters:"
  for name in noop1 noop2 noop3; do
    echo "  $name: { module: $filters/test_noop.wasm, config: { phases: [$1] } }"
  done
}

# weir_rows WEIR TAG: the weir rows (W1, observed, W2's route without and
# with its filters, three no-op filters in one and in two phases) for the
# binary WEIR, as one line of counts.
weir_rows() {
  local weir=$1 tag=$2
  port=$(free_port)
  weir_config "" "" >"$work/w1.yaml"
  local w1 observed w2_plain w2 noop3 noop3_both
  w1=$(count "$tag-w1" "$weir" run --config "$work/w1.yaml")

  port=$(free_port)
  admin=$(free_port)
  weir_config "admin:
  address: 127.0.0.1:$admin
access_log:
  format: json
  path: $work/access.log" "" >"$work/observed.yaml"
  observed=$(count "$tag-observed" "$weir" run --config "$work/observed.yaml")

  port=$(free_port)
  weir_config "$w2_sections" "" >"$work/w2-plain.yaml"
  "$weir" check --config "$work/w2-plain.yaml" >/dev/null
  w2_plain=$(count "$tag-w2-plain" "$weir" run --config "$work/w2-plain.yaml")
  port=$(free_port)
  weir_config "$w2_sections" "    filters: [auth, limit, tag]" >"$work/w2.yaml"
  w2=$(count "$tag-w2" "$weir" run --config "$work/w2.yaml")

  port=$(free_port)
  weir_config "$(noop_filters request-headers)" "    filters: [noop1, noop2, noop3]" >"$work/noop3.yaml"
  "$weir" check --config "$work/noop3.yaml" >/dev/null
  noop3=$(count "$tag-noop3" "$weir" run --config "$work/noop3.yaml")
  port=$(free_port)
  weir_config "$(noop_filters "request-headers, response-headers")" "    filters: [noop1, noop2, noop3]" >"$work/noop3-both.yaml"
  noop3_both=$(count "$tag-noop3-both" "$weir" run --config "$work/noop3-both.yaml")

  # W4: the same 10 KB JSON document, through the route with json-transform
  # loaded, then with it on the route (the edits of
  # tests/benches/proxies/weir.rs's TRANSFORM).
  local w4_plain w4
  path=/json?bytes=10240
  port=$(free_port)
  weir_config "$w4_sections" "" >"$work/w4-plain.yaml"
  "$weir" check --config "$work/w4-plain.yaml" >/dev/null
  w4_plain=$(count "$tag-w4-plain" "$weir" run --config "$work/w4-plain.yaml")
  port=$(free_port)
  weir_config "$w4_sections" "    filters: [json]" >"$work/w4.yaml"
  w4=$(count "$tag-w4" "$weir" run --config "$work/w4.yaml")
  path=/fixed?bytes=512
  echo "$w1 $observed $w2_plain $w2 $noop3 $noop3_both $w4_plain $w4"
}

port=$(free_port)
bare=$(count bare "$bin/pingora-bare" "127.0.0.1:$port" "127.0.0.1:$upstream_port")
rows=$(weir_rows "$bin/weir" w)
read -r w1 observed w2_plain w2 noop3 noop3_both w4_plain w4 <<<"$rows"
if [ -n "$baseline" ]; then
  rows=$(weir_rows "$baseline" b)
  read -r b_w1 b_observed b_w2_plain b_w2 b_noop3 b_noop3_both b_w4_plain b_w4 <<<"$rows"
fi

ratio() { python3 -c "print(f'{$1 / $2:.2f}')"; }
echo "Instructions per request, callgrind, $requests requests on one connection, 512 B responses (W4: 10 KB) ($(date -u '+%Y-%m-%d %H:%M UTC'), $(git rev-parse --short HEAD)):"
echo
echo "| proxy | instructions/request | ratio to bare Pingora |"
echo "|---|---|---|"
echo "| bare Pingora | $bare | 1.00 |"
echo "| weir W1 | $w1 | $(ratio "$w1" "$bare") |"
echo "| weir W1, metrics + JSON access log | $observed | $(ratio "$observed" "$bare") |"
echo "| weir, W2's route without its filters (loaded) | $w2_plain | $(ratio "$w2_plain" "$bare") |"
echo "| weir W2: jwt-auth + rate-limit + headers | $w2 | $(ratio "$w2" "$bare"); $(ratio "$w2" "$w2_plain")× the route without filters |"
echo "| weir W1's route behind three no-op filters, request phase | $noop3 | $(ratio "$noop3" "$bare"); $(ratio "$noop3" "$w1")× W1 |"
echo "| weir W1's route behind three no-op filters, request and response phases | $noop3_both | $(ratio "$noop3_both" "$bare"); $(ratio "$noop3_both" "$w1")× W1 |"
echo "| weir W4: 10 KB JSON passed through | $w4_plain | |"
echo "| weir W4: 10 KB JSON transformed by json-transform | $w4 | $(ratio "$w4" "$w4_plain")× passed through |"
if [ -n "$baseline" ]; then
  echo
  echo "Side by side with $baseline (same run):"
  echo
  echo "| row | baseline | this build | change |"
  echo "|---|---|---|---|"
  labels=("weir W1" "weir W1, metrics + JSON access log" "W2's route without its filters" "weir W2"
    "three no-op filters, request phase" "three no-op filters, both phases"
    "W4 passed through" "W4 json-transform")
  read -r -a now <<<"$w1 $observed $w2_plain $w2 $noop3 $noop3_both $w4_plain $w4"
  read -r -a before <<<"$b_w1 $b_observed $b_w2_plain $b_w2 $b_noop3 $b_noop3_both $b_w4_plain $b_w4"
  for i in "${!labels[@]}"; do
    change=$(python3 -c "print(f'{(${now[$i]} - ${before[$i]}) / ${before[$i]} * 100:+.2f}%')")
    echo "| ${labels[$i]} | ${before[$i]} | ${now[$i]} | $change |"
  done
fi
