#!/usr/bin/env bash
# Builds the JavaScript, Python, C and Go filters in filters/ (the reference filter,
# the examples and the SDKs' test filters), and the JavaScript, Python and Go
# handlers in filters/handlers/, into filters/target/languages/<name>.wasm,
# with the toolchains of scripts/setup-languages.sh. A component whose inputs
# (its sources, the SDK or the handler build, the WIT, the toolchain versions)
# did not change since its last build is kept: each build takes tens of
# seconds.
set -euo pipefail
cd "$(dirname "$0")/.."

out=filters/target/languages
mkdir -p "$out"

# name  language  source directory
filters=(
  "reference-js js filters/reference/js"
  "reference-python python filters/reference/python"
  "ab-routing-js js filters/examples/ab-routing-js"
  "validate-py python filters/examples/validate-py"
  "sdk-js-test js filters/sdk-js/test-filter"
  "sdk-js-conformance js filters/sdk-js/conformance"
  "sdk-python-test python filters/sdk-python/test-filter"
  "reference-c c filters/reference/c"
  "reference-go go filters/reference/go"
  "checksum-c c filters/examples/checksum-c"
  "ipblock-go go filters/examples/ipblock-go"
  "sdk-c-test c filters/sdk-c/test-filter"
  "sdk-go-test go filters/sdk-go/test-filter"
  # Handlers: wasi:http/proxy components (filters/handler-build).
  "hello-js handler-js filters/handlers/hello-js"
  "hello-py handler-python filters/handlers/hello-py"
  "hello-go handler-go filters/handlers/hello-go"
)

inputs_digest() {
  local lang=$1 src=$2 inputs
  case "$lang" in
    js) inputs=(filters/sdk-js filters/guest-wit wit) ;;
    python) inputs=(filters/sdk-python filters/guest-wit wit) ;;
    c) inputs=(filters/sdk-c filters/guest-wit wit) ;;
    go) inputs=(filters/sdk-go filters/guest-wit wit) ;;
    # A handler has no SDK: its build script and the handler WIT (whose
    # deps/ is a link, followed by -L).
    handler-*) inputs=(filters/handler-build filters/handler-wit) ;;
  esac
  {
    find -L "$src" "${inputs[@]}" -type f -not -path '*/__pycache__/*' -print0 \
      | sort -z | xargs -0 sha256sum
    cat scripts/setup-languages.sh
    # The JavaScript engine of filters that do not name one.
    if [ "$lang" = js ]; then echo "WEIR_JS_ENGINE=${WEIR_JS_ENGINE:-}"; fi
  } | sha256sum | cut -d' ' -f1
}

rebuilt=""
for entry in "${filters[@]}"; do
  read -r name lang src <<<"$entry"
  target="$out/$name.wasm"
  digest=$(inputs_digest "$lang" "$src")
  if [ -f "$target" ] && [ "$(cat "$target.inputs" 2>/dev/null)" = "$digest" ]; then
    continue
  fi
  echo "building $name ($lang)"
  rebuilt=1
  started=$(date +%s.%N)
  case "$lang" in
    js) filters/sdk-js/build.sh "$src" "$target" ;;
    python) filters/sdk-python/build.sh "$src" "$target" ;;
    c) filters/sdk-c/build.sh "$src" "$target" ;;
    go) filters/sdk-go/build.sh "$src" "$target" ;;
    handler-js) filters/handler-build/js.sh "$src" "$target" ;;
    handler-python) filters/handler-build/python.sh "$src" "$target" ;;
    handler-go) filters/handler-build/go.sh "$src" "$target" ;;
  esac
  echo "$digest" >"$target.inputs"
  echo "  $name: $(stat -c %s "$target") bytes in $(awk -v s="$started" -v e="$(date +%s.%N)" 'BEGIN { printf "%.1f", e - s }') s"
done

# The end-to-end tests keep compiled artifacts (tens of MB each) in one cache
# directory; those of replaced components are never used again.
if [ -n "$rebuilt" ]; then rm -rf target/weir-e2e-filter-cache; fi
