#!/usr/bin/env bash
# Builds a Python filter into a component: build.sh SOURCE_DIR OUTPUT.wasm
#
# SOURCE_DIR holds the filter's module (default filter.py), which calls
# weir_filter.export_filter(TheClass). An optional pyproject.toml says:
#   [project] dependencies = ["fastjsonschema==2.21.1"]   # pure-Python packages from PyPI, bundled
#   [tool.weir] module = "filter"                          # the module to load
#               capabilities = ["key-value", "secrets"]    # what it imports; weir asks grants for these only
# The toolchain (componentize-py) comes from scripts/setup-languages.sh.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
if [ $# -ne 2 ]; then echo "usage: $0 SOURCE_DIR OUTPUT.wasm" >&2; exit 2; fi
source_dir="$(cd "$1" && pwd)"
mkdir -p "$(dirname "$2")"
output="$(cd "$(dirname "$2")" && pwd)/$(basename "$2")"
tools="$here/../.toolchains"
if [ ! -x "$tools/python/bin/componentize-py" ]; then
  echo "the Python toolchain is missing: run scripts/setup-languages.sh" >&2; exit 1
fi

# module, capabilities and dependencies from pyproject.toml (one per line, tagged).
manifest=$("$tools/python/bin/python" - "$source_dir/pyproject.toml" <<'PY'
import sys, tomllib, pathlib
path = pathlib.Path(sys.argv[1])
data = tomllib.loads(path.read_text()) if path.exists() else {}
weir = data.get("tool", {}).get("weir", {})
print("module", weir.get("module", "filter"))
for cap in weir.get("capabilities", []):
    print("capability", cap)
for dep in data.get("project", {}).get("dependencies", []):
    print("dependency", dep)
PY
)
module=$(awk '$1 == "module" {print $2}' <<<"$manifest")
mapfile -t capabilities < <(awk '$1 == "capability" {print $2}' <<<"$manifest")
mapfile -t dependencies < <(awk '$1 == "dependency" {$1=""; print substr($0, 2)}' <<<"$manifest")
[ -f "$source_dir/$module.py" ] || [ -d "$source_dir/$module" ] || {
  echo "$source_dir/$module.py not found (the filter's module: [tool.weir] module, default filter)" >&2; exit 2; }

work=$(mktemp -d "${TMPDIR:-/tmp}/weir-py-build-XXXXXX")
trap 'rm -rf "$work"' EXIT
"$here/../guest-wit/make.sh" "$work/wit" "${capabilities[@]}"

paths=(-p "$work/entry" -p "$source_dir" -p "$here")
if [ ${#dependencies[@]} -gt 0 ]; then
  # Installed once per set of dependencies; pure-Python packages only (no
  # WASI builds of native extensions here).
  key=$(printf '%s\n' "${dependencies[@]}" | sha256sum | cut -c1-16)
  deps="$tools/python-deps/$key"
  if [ ! -d "$deps" ]; then
    "$tools/python/bin/pip" install --quiet --disable-pip-version-check --no-compile \
      --only-binary=:all: --target "$deps.tmp" "${dependencies[@]}"
    mv "$deps.tmp" "$deps"
  fi
  paths+=(-p "$deps")
fi

mkdir -p "$work/entry"
printf 'import %s  # registers the filter with export_filter\nfrom weir_filter._world import WitWorld\n' "$module" \
  >"$work/entry/weir_entry.py"
cd "$work"
"$tools/python/bin/componentize-py" -d "$work/wit" -w guest componentize weir_entry "${paths[@]}" -o "$output" >/dev/null
