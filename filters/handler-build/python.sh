#!/usr/bin/env bash
# Builds a Python handler into a component: python.sh SOURCE_DIR OUTPUT.wasm
#
# SOURCE_DIR holds the handler's module (default handler.py) with a class
# `IncomingHandler(wit_world.exports.IncomingHandler)` whose
# `handle(request, response_out)` answers, over the `wasi:http` bindings
# componentize-py generates for the handler world (filters/handler-wit). An
# optional pyproject.toml says:
#   [project] dependencies = ["..."]   # pure-Python packages from PyPI, bundled
#   [tool.weir] module = "handler"      # the module to load
# To see the bindings: componentize-py -d filters/handler-wit -w handler bindings OUT_DIR
# The toolchain (componentize-py) comes from scripts/setup-languages.sh.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
if [ $# -ne 2 ]; then echo "usage: $0 SOURCE_DIR OUTPUT.wasm" >&2; exit 2; fi
source_dir="$(cd "$1" && pwd)"
mkdir -p "$(dirname "$2")"
output="$(cd "$(dirname "$2")" && pwd)/$(basename "$2")"
tools="$here/../.toolchains"
wit="$here/../handler-wit"
if [ ! -x "$tools/python/bin/componentize-py" ]; then
  echo "the Python toolchain is missing: run scripts/setup-languages.sh" >&2; exit 1
fi

manifest=$("$tools/python/bin/python" - "$source_dir/pyproject.toml" <<'PY'
import sys, tomllib, pathlib
path = pathlib.Path(sys.argv[1])
data = tomllib.loads(path.read_text()) if path.exists() else {}
print("module", data.get("tool", {}).get("weir", {}).get("module", "handler"))
for dep in data.get("project", {}).get("dependencies", []):
    print("dependency", dep)
PY
)
module=$(awk '$1 == "module" {print $2}' <<<"$manifest")
mapfile -t dependencies < <(awk '$1 == "dependency" {$1=""; print substr($0, 2)}' <<<"$manifest")
[ -f "$source_dir/$module.py" ] || [ -d "$source_dir/$module" ] || {
  echo "$source_dir/$module.py not found (the handler's module: [tool.weir] module, default handler)" >&2; exit 2; }

paths=(-p "$source_dir")
if [ ${#dependencies[@]} -gt 0 ]; then
  # Installed once per set of dependencies (shared with the filters' build).
  key=$(printf '%s\n' "${dependencies[@]}" | sha256sum | cut -c1-16)
  deps="$tools/python-deps/$key"
  if [ ! -d "$deps" ]; then
    "$tools/python/bin/pip" install --quiet --disable-pip-version-check --no-compile \
      --only-binary=:all: --target "$deps.tmp" "${dependencies[@]}"
    mv "$deps.tmp" "$deps"
  fi
  paths+=(-p "$deps")
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/weir-handler-py-XXXXXX")
trap 'rm -rf "$work"' EXIT
cd "$work"
"$tools/python/bin/componentize-py" -d "$wit" -w handler componentize "$module" "${paths[@]}" -o "$output" >/dev/null
