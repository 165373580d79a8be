#!/usr/bin/env bash
# Installs what the test suite needs and runs all of it: formatting, lints, unit,
# property, CLI and end-to-end tests. `.ci/run` calls exactly this.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v cargo >/dev/null 2>&1; then
  echo "error: Rust is required (cargo >= 1.92). Install it with rustup: https://rustup.rs" >&2
  exit 1
fi
if command -v rustup >/dev/null 2>&1; then
  rustup component list --installed 2>/dev/null | grep -q '^rustfmt' || rustup component add rustfmt
  rustup component list --installed 2>/dev/null | grep -q '^clippy' || rustup component add clippy
fi
if [ ! -d ../shared/samples ]; then
  echo "error: the sample photos are expected in ../shared/samples (beside the repository)" >&2
  exit 1
fi

# ONNX Runtime for the tests: the wheel `ort` targets (found by the core through
# Python, as a user's pip install would be), and an older one whose library the
# tests must refuse with a clear message.
ORT_VERSION=1.31.1
ORT_OLD_VERSION=1.22.0
python3 -c "import onnxruntime, sys; sys.exit(onnxruntime.__version__ != '$ORT_VERSION')" 2>/dev/null \
  || python3 -m pip install -q --disable-pip-version-check "onnxruntime==$ORT_VERSION" "numpy<3"
cache="${XDG_CACHE_HOME:-$HOME/.cache}/pertouch-test"
old_lib="$cache/onnxruntime-$ORT_OLD_VERSION/libonnxruntime.so.$ORT_OLD_VERSION"
if [ ! -f "$old_lib" ]; then
  mkdir -p "$cache/wheels" "$(dirname "$old_lib")"
  python3 -m pip download -q --disable-pip-version-check --no-deps --only-binary=:all: \
    --python-version 3.11 -d "$cache/wheels" "onnxruntime==$ORT_OLD_VERSION"
  python3 - "$cache/wheels" "$old_lib" "$ORT_OLD_VERSION" <<'PY'
import glob, sys, zipfile
wheel = glob.glob(f"{sys.argv[1]}/onnxruntime-{sys.argv[3]}-*.whl")[0]
z = zipfile.ZipFile(wheel)
name = next(n for n in z.namelist() if "capi/libonnxruntime.so" in n)
open(sys.argv[2], "wb").write(z.read(name))
PY
fi
export PERTOUCH_TEST_OLD_ORT="$old_lib"
# Tests that need ONNX Runtime fail instead of skipping when it is missing.
export PERTOUCH_REQUIRE_ORT=1

echo "== cargo fmt --check"
cargo fmt --all -- --check
echo "== cargo clippy (warnings are errors)"
cargo clippy --workspace --all-targets --locked -- -D warnings
# The core without its `vlm` feature, as libpertouch and the OpenFX bundle build it.
cargo clippy --locked -p pertouch-capi -p pertouch-ofx -p pertouch-e2e --all-targets -- -D warnings

# Cargo unifies features over the packages of one build, and the CLI turns the
# core's `vlm` feature on: the CLI and the core are tested in one build, the hosts
# that only render (C ABI, OpenFX, end-to-end) in another, so the libraries those
# tests load are the lean ones users get.
echo "== cargo test: core, CLI and Photoshop bridge (with the VLM agent)"
cargo test --locked -p pertouch-core -p pertouch-cli -p pertouch-bridge
echo "== cargo test: C ABI, OpenFX plug-in, end-to-end (core without network code)"
cargo test --locked -p pertouch-capi -p pertouch-ofx -p pertouch-e2e
echo "== lean hosts link no network code"
build/check-lean.sh target/debug/deps/libpertouch.so target/debug/deps/libpertouch_ofx.so

# The OpenFX bundle as users get it: assembled and installed by build/ofx-bundle.sh
# (from the library the tests just built, into a scratch plug-in folder), then
# loaded by our test host.
echo "== OpenFX bundle (build/ofx-bundle.sh) loaded by the test host"
ofx_tmp="$(mktemp -d)"
trap 'rm -rf "$ofx_tmp"' EXIT
build/ofx-bundle.sh --binary target/debug/deps/libpertouch_ofx.so --out "$ofx_tmp/out" --install "$ofx_tmp/plugins"
PERTOUCH_OFX_BUNDLE="$ofx_tmp/plugins/PerTouch.ofx.bundle" \
  cargo test --locked -p pertouch-capi -p pertouch-ofx -p pertouch-e2e --test ofx_plugin -- a_host_loads tiles_and_render_scales

# ---------------------------------------------------------------------------
# OpenFX in a real host: MLT's openfx module (melt 7.42, Debian sid in a cached
# chroot; about a minute the first time, then about a minute of renders).
# build/ofx-mlt-e2e.sh renders sample photos through the bundle installed above
# and checks them against the core (tests/ofx_mlt.rs).
echo "== OpenFX bundle in MLT (build/ofx-mlt-e2e.sh)"
build/ofx-mlt-e2e.sh --bundle "$ofx_tmp/plugins/PerTouch.ofx.bundle"

# ---- Photoshop host (plugin-photoshop-ufx/) ----------------------------------
# The bridge's Rust tests ran with `cargo test` above. Here the panel: type-checked
# against @types/photoshop and Adobe's UXP typings, bundled and packaged as a .ccx
# (checked ZIP, manifest at its root), its unit tests (node --test), then the
# browser end-to-end test: the shipped bundle in Debian's headless Chromium with a
# test double of the Photoshop API, against the bridge binary `cargo test` built.
# Installs: npm packages from the committed lockfile (npm ci), chromium-headless-shell
# from apt when missing. About 2 minutes on a clean 2-core machine.
echo "== Photoshop panel: npm ci, tsc --noEmit, bundle, .ccx, node --test"
if ! command -v npm >/dev/null 2>&1 && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nodejs npm >/dev/null
fi
build/photoshop-panel.sh --no-bridge --out out/photoshop
(cd plugin-photoshop-ufx && npm test --silent)
echo "== Photoshop panel end-to-end (headless Chromium, real bridge binary)"
build/photoshop-e2e.sh --no-build

# ---------------------------------------------------------------------------
# GIMP 3 (in a Debian trixie chroot, built and cached by ../shared/tools/gimp3-env.sh)
# drives the plug-in, and bookworm's gegl runs the GEGL operation: build/gimp-e2e.sh
# runs that end-to-end test alone.
echo "== GIMP 3 plug-in and GEGL operation, end to end (build/gimp-e2e.sh)"
PERTOUCH_GIMP_LIB=target/debug/deps/libpertouch.so PERTOUCH_CLI=target/debug/pertouch \
  build/gimp-e2e.sh

# ---- Fuzzing (issue 18; docs/RELIABILITY.md) --------------------------------
# Every run (a few seconds): the fuzz targets' checks already ran above, on stable,
# over every committed seed and regression input and 20,000 seeded mutants of them
# per target (core/tests/fuzz_corpora.rs; the OpenFX host values and the bridge
# protocol have their own random-input tests in their crates). Here: every file
# in fuzz/fuzz_targets/ has its [[bin]], and the fuzz crate is formatted.
echo "== fuzz targets all built, fuzz crate formatted"
for f in fuzz/fuzz_targets/*.rs; do
  grep -q "path = \"fuzz_targets/$(basename "$f")\"" fuzz/Cargo.toml \
    || { echo "error: $f has no [[bin]] in fuzz/Cargo.toml" >&2; exit 1; }
done
cargo fmt --manifest-path fuzz/Cargo.toml -- --check
# The libFuzzer smoke, opt-in (PERTOUCH_FUZZ_SMOKE=1): each target FUZZ_SECONDS
# (default 10) with the long run's limits. Opt-in because building the
# instrumented targets (the core, the OpenFX plug-in, the bridge and all their
# dependencies, under AddressSanitizer) took 10.3 CPU-minutes here (12.8 min wall on
# a loaded 2-core machine), over this step's 3-minute share of CI. CI machines
# have one (stable) toolchain and cannot fetch nightly: without nightly the
# sanitizer flags cargo-fuzz passes are allowed on stable with RUSTC_BOOTSTRAP=1.
if [ "${PERTOUCH_FUZZ_SMOKE:-0}" = 1 ]; then
  echo "== fuzz smoke: each target for ${FUZZ_SECONDS:-10} s"
  command -v cargo-fuzz >/dev/null 2>&1 || cargo install cargo-fuzz --locked
  toolchain=+nightly
  if ! rustup toolchain list 2>/dev/null | grep -q '^nightly'; then
    toolchain=+stable
    export RUSTC_BOOTSTRAP=1
  fi
  (
    cd fuzz
    cargo "$toolchain" fuzz build -O --codegen-units 16
    for t in $(cargo "$toolchain" fuzz list); do
      mkdir -p "work/$t" "corpus/$t"
      cargo "$toolchain" fuzz run -O --codegen-units 16 "$t" "work/$t" "corpus/$t" -- \
        -max_total_time="${FUZZ_SECONDS:-10}" -rss_limit_mb=2048 -malloc_limit_mb=2048 -timeout=1
    done
  )
else
  echo "== libFuzzer smoke skipped (PERTOUCH_FUZZ_SMOKE=1 runs it, about 6 min on 2 cores)"
fi
