#!/usr/bin/env bash
# Builds the Photoshop host: the bridge (`pertouch`, release, which serves
# `pertouch bridge`) and the panel package PerTouch.ccx (manifest v5 at the root
# of a ZIP, as Creative Cloud and UXP Developer Tool install it), type-checked
# against Photoshop's and UXP's typings first.
#
# Usage: build/photoshop-panel.sh [--out DIR] [--no-bridge]
#   --out DIR     where PerTouch.ccx, the unpacked panel/ and pertouch go (default out/photoshop)
#   --no-bridge   only the panel (no cargo build)
# Needs: Node.js >= 20 with npm (packages come from the committed package-lock.json),
# python3 (zip), cargo.
set -euo pipefail
cd "$(dirname "$0")/.."

out="out/photoshop"
bridge=1
while [ $# -gt 0 ]; do
  case "$1" in
    --out) out="$2"; shift 2 ;;
    --no-bridge) bridge=0; shift ;;
    -h|--help) sed -n '2,12p' "$0"; exit 0 ;;
    *) echo "error: unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
done

command -v npm >/dev/null || { echo "error: Node.js 20+ with npm is needed (https://nodejs.org or apt-get install nodejs npm)" >&2; exit 1; }
ufx=plugin-photoshop-ufx
if [ ! -d "$ufx/node_modules" ] || [ "$ufx/package-lock.json" -nt "$ufx/node_modules/.package-lock.json" ]; then
  (cd "$ufx" && npm ci --no-audit --no-fund)
fi
(cd "$ufx" && npm run --silent typecheck && npm run --silent build)

mkdir -p "$out"
rm -rf "$out/panel" "$out/PerTouch.ccx"
cp -r "$ufx/dist/panel" "$out/panel"
# A .ccx is a plain ZIP with manifest.json at its root.
(cd "$out/panel" && python3 -m zipfile -c ../PerTouch.ccx manifest.json index.html main.js styles.css icons)
python3 - "$out/PerTouch.ccx" <<'PY'
import json, sys, zipfile
z = zipfile.ZipFile(sys.argv[1])
assert z.testzip() is None, "corrupt entry"
names = z.namelist()
for need in ("manifest.json", "index.html", "main.js", "styles.css"):
    assert need in names, f"{need} is not at the root of the package: {names}"
m = json.loads(z.read("manifest.json"))
assert m["manifestVersion"] == 5
for e in m["entrypoints"] + [{"icons": m["icons"]}]:
    for i in e["icons"]:
        assert i["path"] in names, f"icon {i['path']} missing"
print(f"{sys.argv[1]}: {len(names)} files, manifest {m['id']} {m['version']}")
PY

if [ "$bridge" = 1 ]; then
  cargo build --release --locked -p pertouch-cli
  cp target/release/pertouch "$out/pertouch"
  echo "bridge: $out/pertouch (run: $out/pertouch bridge)"
fi
echo "panel: $out/PerTouch.ccx (and unpacked in $out/panel for UXP Developer Tool)"
