#!/usr/bin/env bash
# The demo: weir in front of a demo upstream, through a Wasm filter chain,
# and a route answered by a Wasm handler.
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

# A sample token: HS256 over the demo secret (config/demo-jwt-secret.txt),
# signed with the openssl command so the recipe is plain to see.
b64url() { openssl base64 -A | tr '+/' '-_' | tr -d '='; }
jwt() {
  local header payload signature
  header=$(printf '{"alg":"HS256","typ":"JWT"}' | b64url)
  payload=$(printf '{"iss":"weir-demo","aud":"demo-api","sub":"%s","exp":%d}' "$1" $(( $(date +%s) + 3600 )) | b64url)
  signature=$(printf '%s.%s' "$header" "$payload" \
    | openssl dgst -sha256 -hmac "$(cat config/demo-jwt-secret.txt)" -binary | b64url)
  printf '%s.%s.%s' "$header" "$payload" "$signature"
}
TOKEN=$(jwt alice)

echo; echo "== a sample token for user alice (valid for an hour):"
echo "TOKEN=$TOKEN"
echo; echo "== allowed: GET /api/orders with the token (jwt-auth -> rate-limit -> headers -> json-transform)"
curl -si http://127.0.0.1:8080/api/orders -H "authorization: Bearer $TOKEN"
echo; echo; echo "== 401: the same request without a token"
curl -si http://127.0.0.1:8080/api/orders
echo; echo; echo "== 429: alice's quota is 5 requests a minute"
for i in 2 3 4 5 6; do
  code=$(curl -s -o /dev/null -w '%{http_code}' http://127.0.0.1:8080/api/orders -H "authorization: Bearer $TOKEN")
  echo "request $i: $code"
done
curl -si http://127.0.0.1:8080/api/orders -H "authorization: Bearer $TOKEN"
echo; echo; echo "== a handler: GET /hello is answered by a wasi:http component, no upstream (the headers filter in front)"
curl -si http://127.0.0.1:8080/hello

cat <<MSG


weir is listening on http://127.0.0.1:8080 in front of a demo upstream on 127.0.0.1:9001.
Try:
  TOKEN=$TOKEN
  curl -i http://127.0.0.1:8080/api/orders -H "authorization: Bearer \$TOKEN"   # 200 (until the quota is spent: 429)
  curl -i http://127.0.0.1:8080/api/orders                                      # 401: no token
  curl -i http://127.0.0.1:8080/api/orders -H "authorization: Bearer x.y.z"     # 401: not a valid token
  curl -i http://127.0.0.1:8080/healthz                                         # direct response from the config
  curl -i http://127.0.0.1:8080/hello                                           # answered by a Wasm handler (filters/handlers/handler-hello)
  curl -s http://127.0.0.1:9900/admin/handlers                                  # each handler's requests, failures, circuit breaker
  curl -s http://127.0.0.1:9900/admin/filters                                   # each filter's calls, failures, circuit breaker
  curl -s http://127.0.0.1:9900/admin/config                                    # the running config generation
Edit config/demo.yaml and weir reloads it live. Ctrl-C stops weir and the upstream.
MSG
wait $gateway
