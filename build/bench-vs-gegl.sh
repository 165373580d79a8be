#!/usr/bin/env bash
# Times `pertouch retouch` against gegl's chain of four global operations
# (saturation, brightness, contrast, colour temperature) in one hyperfine session on
# the same machine, and then each command's peak RSS (GNU time, one run each).
# Every command includes decoding and encoding the JPEG. Cases:
#   - band masks: three hard band masks at 1536x1024 (as a segmenter hands them
#     over) + a global edit, on a 24-megapixel JPEG;
#   - soft masks: three overlapping full-size soft masks (6000x3750 PNGs blurred
#     40 px: a sky band, a water band, an ellipse), one attribute each, on a
#     22.5-megapixel JPEG (issue #19);
#   - global only, and gegl's global chain on each photo.
# Results: docs/BENCHMARKS.md. RUNS=N sets hyperfine's runs (default 5).
set -euo pipefail
cd "$(dirname "$0")/.."
need() { command -v "$1" >/dev/null 2>&1; }
if ! need gegl || ! need hyperfine || [ ! -x /usr/bin/time ]; then
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq gegl hyperfine time
fi
python3 -c "import PIL" 2>/dev/null || python3 -m pip install -q pillow \
  || python3 -m pip install -q --break-system-packages pillow
work="${TMPDIR:-/tmp}/pertouch-bench"
mkdir -p "$work"
python3 - "$work" <<'PY'
import sys
from PIL import Image, ImageDraw, ImageFilter
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
# Full-size soft masks, as exported from an editor at the photo's size: overlapping
# (the water band overlaps the sky band and the ellipse), feathered by a 40-px blur.
W, H = 6000, 3750
src.resize((W, H), Image.BILINEAR).save(f"{work}/soft.jpg", quality=92)
shapes = {
    "sky": lambda d: d.rectangle((0, 0, W, int(H * 0.42)), fill=255),
    "water": lambda d: d.rectangle((0, int(H * 0.36), W, int(H * 0.62)), fill=255),
    "dune": lambda d: d.ellipse((int(W * 0.35), int(H * 0.5), int(W * 0.9), int(H * 0.95)), fill=255),
}
for name, draw in shapes.items():
    m = Image.new("L", (W, H), 0)
    draw(ImageDraw.Draw(m))
    m.filter(ImageFilter.GaussianBlur(40)).save(f"{work}/soft-{name}.png")
PY
cargo build --release -q -p pertouch-cli
pt=target/release/pertouch
state='{"global": {"contrast": 0.1}, "sky": {"temperature": -0.2, "colorfulness": 0.2}, "water": {"brightness": 0.15}, "dune": {"temperature": 0.2}}'
soft_state='{"sky": {"temperature": -0.2}, "water": {"brightness": 0.15}, "dune": {"colorfulness": 0.2}}'
gegl_chain="-- saturation scale=1.2 brightness-contrast contrast=1.15 brightness=0.05 color-temperature original-temperature=6500 intended-temperature=5000"
names=(
  "pertouch retouch: 3 band masks + global, 24 MP"
  "pertouch retouch: 3 soft full-size masks, 22.5 MP"
  "pertouch retouch: the same four attributes, global only, 24 MP"
  "gegl: saturation, brightness-contrast, color-temperature (global), 24 MP"
  "gegl: the same global chain, 22.5 MP"
)
cmds=(
  "$pt retouch $work/big.jpg -o $work/out.jpg --mask sky=$work/sky.png --mask water=$work/water.png --mask dune=$work/dune.png --state '$state' -q"
  "$pt retouch $work/soft.jpg -o $work/out-soft.jpg --mask sky=$work/soft-sky.png --mask water=$work/soft-water.png --mask dune=$work/soft-dune.png --state '$soft_state' -q"
  "$pt retouch $work/big.jpg -o $work/out-global.jpg --set colorfulness=0.2 --set contrast=0.15 --set brightness=0.05 --set temperature=0.2 -q"
  "gegl $work/big.jpg -o $work/gegl.jpg $gegl_chain"
  "gegl $work/soft.jpg -o $work/gegl-soft.jpg $gegl_chain"
)
args=()
for i in "${!cmds[@]}"; do args+=(-n "${names[$i]}" "${cmds[$i]}"); done
echo "load before: $(uptime)"
hyperfine --warmup 1 --runs "${RUNS:-5}" --export-markdown "$work/result.md" "${args[@]}"
echo "load after: $(uptime)"
cat "$work/result.md"
echo
echo "| command | peak RSS (MB) |"
echo "|:---|---:|"
for i in "${!cmds[@]}"; do
  kb=$( { /usr/bin/time -v bash -c "${cmds[$i]}" >/dev/null; } 2>&1 | awk -F: '/Maximum resident set size/ {gsub(/ /, "", $2); print $2}')
  echo "| ${names[$i]} | $((kb / 1024)) |"
done
