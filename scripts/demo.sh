#!/usr/bin/env bash
# The demo: weir in front of a demo upstream, through a Wasm filter chain.
# Starts both, prints what to curl, and stops both on Ctrl-C.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/setup.sh
echo "== building filters and weir (the first build takes several minutes)"
scripts/build-filters.sh
# The same build as the test suite's, so neither rebuilds after the other.
cargo build --workspace --all-targets --quiet

"${CARGO_TARGET_DIR:-target}/debug/demo-upstream" 127.0.0.1:9001 &
upstream=$!
"${CARGO_TARGET_DIR:-target}/debug/weir" run --config config/demo.yaml &
gateway=$!
trap 'kill $gateway $upstream 2>/dev/null; wait 2>/dev/null' EXIT INT TERM

ready=""
for _ in $(seq 1 300); do
  if curl -s -o /dev/null http://127.0.0.1:8080/healthz; then ready=1; break; fi
  sleep 0.1
done
[ -n "$ready" ] || { echo "weir did not start"; exit 1; }

echo; echo "== GET /api/hello through the filter chain:"
curl -si http://127.0.0.1:8080/api/hello

cat <<'MSG'

weir is listening on http://127.0.0.1:8080 in front of a demo upstream on 127.0.0.1:9001.
Try:
  curl -i http://127.0.0.1:8080/healthz                       # direct response from the config
  curl -i http://127.0.0.1:8080/api/hello                     # proxied; Wasm filters count you and add x-hello
                                                              #   (x-ratelimit-remaining; the 21st request a minute gets 429)
  curl -s http://127.0.0.1:9900/admin/filters                 # each filter's calls, failures, circuit breaker
  curl -s http://127.0.0.1:9900/admin/config                  # the running config generation
  curl -i http://127.0.0.1:8080/nowhere                       # 404 with a JSON body
Edit config/demo.yaml and weir reloads it live. Ctrl-C stops weir and the upstream.
MSG
wait $gateway
