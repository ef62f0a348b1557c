#!/usr/bin/env bash
# Writes the WIT a JavaScript or Python filter is built against into OUT_DIR:
# wit/filter.wit plus a world `guest` that is the `filter` world with only the
# capabilities the filter declares.
#
#   make.sh OUT_DIR [--export-init-as NAME] [CAPABILITY...]
#   CAPABILITY: key-value | secrets | http
#
# Why: these toolchains import every interface of the world they build for,
# and weir refuses a filter that imports a capability its config does not
# grant. A filter built against the whole `filter` world would need
# `grants: { key_value: [], secrets: [] }` even when it uses neither.
# `http` adds the standard wasi:http/outgoing-handler (WIT in deps/, WASI
# 0.2.12 as wasmtime-wasi-http 48 ships it).
# --export-init-as: the QuickJS toolchain's runtime exports its own `init`;
# the JavaScript build exports ours under another name and renames it back.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
wit="$here/../../wit/filter.wit"

out="$1"; shift
init_name=init
if [ "${1:-}" = "--export-init-as" ]; then init_name="$2"; shift 2; fi
want_kv="" want_secrets="" want_http=""
for cap in "$@"; do
  case "$cap" in
    key-value) want_kv=1 ;;
    secrets) want_secrets=1 ;;
    http) want_http=1 ;;
    *) echo "unknown capability \"$cap\" (expected key-value, secrets or http)" >&2; exit 2 ;;
  esac
done

rm -rf "$out"
mkdir -p "$out"
cp "$wit" "$out/filter.wit"
[ -n "$want_http" ] && cp -r "$here/deps" "$out/deps"

# The `filter` world's block, renamed `guest`, without the capabilities that
# were not asked for. Fails loudly if the contract's shape changes.
world=$(awk '/^world filter \{/,/^\}/' "$wit")
grep -q '^    import key-value;$' <<<"$world" || { echo "guest-wit: world filter has no 'import key-value;' line" >&2; exit 1; }
grep -q '^    import secrets;$' <<<"$world" || { echo "guest-wit: world filter has no 'import secrets;' line" >&2; exit 1; }
grep -q '^    export init: func' <<<"$world" || { echo "guest-wit: world filter has no 'export init' line" >&2; exit 1; }
world=$(sed -e 's/^world filter {/world guest {/' \
  -e "s/^    export init: func/    export $init_name: func/" <<<"$world")
[ -z "$want_kv" ] && world=$(grep -v '^    import key-value;$' <<<"$world")
[ -z "$want_secrets" ] && world=$(grep -v '^    import secrets;$' <<<"$world")
if [ -n "$want_http" ]; then
  world=$(sed 's|^world guest {|world guest {\n    import wasi:http/outgoing-handler@0.2.12;|' <<<"$world")
fi
{
  echo "package weir:filter@0.1.0;"
  echo
  echo "$world"
} >"$out/guest.wit"
