#!/usr/bin/env bash
# Times `pertouch retouch` (three regions plus a global edit) against gegl's chain of
# four global operations (saturation, brightness, contrast, colour temperature) on the
# same 24-megapixel JPEG, in one hyperfine run on the same machine. Both commands
# include decoding and encoding the JPEG. Results: docs/BENCHMARKS.md.
set -euo pipefail
cd "$(dirname "$0")/.."
need() { command -v "$1" >/dev/null 2>&1; }
if ! need gegl || ! need hyperfine; then
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq gegl hyperfine
fi
python3 -c "import PIL" 2>/dev/null || python3 -m pip install -q pillow
work="${TMPDIR:-/tmp}/pertouch-bench"
mkdir -p "$work"
python3 - "$work" <<'PY'
import sys
from PIL import Image
work = sys.argv[1]
src = Image.open("../shared/samples/dune.jpg").convert("RGB")
src.resize((6000, 4000), Image.BILINEAR).save(f"{work}/big.jpg", quality=92)
# Rough band masks at a quarter of the size, as a segmenter would hand them over.
w, h = 1536, 1024
bands = {"sky": (0, 300), "water": (300, 600), "dune": (600, 1024)}
for name, (a, b) in bands.items():
    m = Image.new("L", (w, h), 0)
    m.paste(255, (0, a, w, b))
    m.save(f"{work}/{name}.png")
PY
cargo build --release -q -p pertouch-cli
state='{"global": {"contrast": 0.1}, "sky": {"temperature": -0.2, "colorfulness": 0.2}, "water": {"brightness": 0.15}, "dune": {"temperature": 0.2}}'
hyperfine --warmup 1 --runs "${RUNS:-5}" --export-markdown "$work/result.md" \
  -n "pertouch retouch: 3 regions + global, measured and verified" \
  "target/release/pertouch retouch $work/big.jpg -o $work/out.jpg --mask sky=$work/sky.png --mask water=$work/water.png --mask dune=$work/dune.png --state '$state' -q" \
  -n "pertouch retouch: the same four attributes, global only" \
  "target/release/pertouch retouch $work/big.jpg -o $work/out-global.jpg --set colorfulness=0.2 --set contrast=0.15 --set brightness=0.05 --set temperature=0.2 -q" \
  -n "gegl: saturation, brightness-contrast, color-temperature (global)" \
  "gegl $work/big.jpg -o $work/gegl.jpg -- saturation scale=1.2 brightness-contrast contrast=1.15 brightness=0.05 color-temperature original-temperature=6500 intended-temperature=5000"
cat "$work/result.md"
