#!/usr/bin/env bash
# The GIMP plug-in against `pertouch retouch` on the same 24-megapixel JPEG
# (../shared/samples/dune.jpg scaled to 6000 x 4000), release builds, GIMP's
# start-up not timed. Prints medians; numbers go to docs/BENCHMARKS.md.
#
#   tests/gimp/bench.sh [ROUNDS]        # needs root (the GIMP 3 chroot), like build/gimp-e2e.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
rounds=${1:-3}
tool=$(realpath "${PERTOUCH_GIMP3_ENV:-../shared/tools/gimp3-env.sh}")
state='{"global": {"contrast": 0.1}, "sky": {"temperature": -0.2, "colorfulness": 0.2}, "shadows": {"brightness": 0.1}}'
work=$PWD/target/gimp-bench
mkdir -p "$work"

cargo build --locked --release -q -p pertouch-capi
cargo build --locked --release -q -p pertouch-cli
if [ ! -f "$work/big.jpg" ]; then
  gegl ../shared/samples/dune.jpg -o "$work/big.jpg" -- gegl:scale-size x=6000 y=4000 2>/dev/null
fi

# GIMP: plug-in and operation built against GIMP 3 in the chroot, installed in a
# scratch GIMP folder; bench.py times each step. (The single-quoted script
# expands its variables inside the chroot.)
# shellcheck disable=SC2016
"$tool" run --env PT_WORK="$work" --env PERTOUCH_GEGL_DEBUG="${PERTOUCH_GEGL_DEBUG:-}" \
  --env PERTOUCH_DEBUG="${PERTOUCH_DEBUG:-}" --env PT_STATE="$state" --env PT_ROUNDS="$rounds" \
  --env PT_LIB="$PWD/target/release/libpertouch.so" "$PWD" -- sh -c '
    set -e
    export GIMP3_DIRECTORY="$PT_WORK/gimp" XDG_DATA_HOME="$PT_WORK/data" PERTOUCH_DATA_DIR="$PT_WORK/pertouch"
    build/gimp-plugin.sh --lib "$PT_LIB" --out "$PT_WORK/build" --install \
      --plugin-dir "$GIMP3_DIRECTORY/plug-ins" --gegl-dir "$XDG_DATA_HOME/gegl-0.4/plug-ins" >/dev/null
    gimp-console-3.0 -i --batch-interpreter=python-fu-eval \
      -b "exec(open(\"$PWD/tests/gimp/bench.py\").read())" --quit >"$PT_WORK/gimp.log" 2>&1'

# The CLI, the same edit and an empty one (decode and encode only).
cli=target/release/pertouch
: > "$work/cli.txt"
for _ in $(seq "$rounds"); do
  for s in "$state" '{}'; do
    /usr/bin/time -o "$work/time.txt" -f "%e %U %S" \
      "$cli" retouch "$work/big.jpg" -o "$work/cli.jpg" --state "$s" -q >/dev/null
    echo "$s|$(cat "$work/time.txt")" >> "$work/cli.txt"
  done
done

python3 - "$work" <<'PY'
import json, statistics, sys
w = sys.argv[1]
rows = json.load(open(f"{w}/bench.json"))
med = statistics.median
def m(mode, key, i):
    return med([r[key][i] for r in rows if r["mode"] == mode])
cli = [l.rsplit("|", 1) for l in open(f"{w}/cli.txt").read().splitlines()]
def c(edit, i):
    vals = [[float(x) for x in t.split()] for s, t in cli if (s != "{}") == edit]
    return med([v[0] if i == 0 else v[1] + v[2] for v in vals])
for i, unit in ((0, "wall"), (1, "CPU")):
    print(f"-- {unit} seconds, medians of {len(rows) // 3} rounds")
    base = m("none", "export", i)
    print(f"GIMP, no edit:          load {m('none','load',i):.2f}, export {base:.2f}")
    for mode in ("filter", "merge"):
        extra = m(mode, "call", i) + m(mode, "export", i) - base
        print(f"GIMP, apply-as {mode:7s} load {m(mode,'load',i):.2f}, call {m(mode,'call',i):.2f}, "
              f"export {m(mode,'export',i):.2f}: the edit adds {extra:.2f}")
    edit, none = c(True, i), c(False, i)
    print(f"CLI: retouch {edit:.2f}, with an empty state {none:.2f}: the edit adds {edit - none:.2f}")
PY
