#!/usr/bin/env bash
# The GIMP 3 plug-in and the GEGL operation, end to end, alone; exits 0 when every
# check passes. build/test.sh runs it in its own section.
#
#   build/gimp-e2e.sh
#
# 1. installs what the host side needs if missing (apt: gegl, libgegl-dev, gcc,
#    pkg-config: bookworm's gegl command and GEGL headers);
# 2. builds or reuses the GIMP 3 chroot (Debian trixie; ../shared/tools/gimp3-env.sh,
#    about 1 minute cold, cached in ~/.cache/pertouch-gimp3);
# 3. builds libpertouch for itself (cargo resolves the core's features for that
#    package alone: no network code) and the CLI the results are compared with,
#    unless PERTOUCH_GIMP_LIB and PERTOUCH_CLI name built ones (build/test.sh);
# 4. builds the GEGL operation against the host's GEGL;
# 5. runs tests/gimp_plugin.rs, which builds and installs the plug-in and the
#    operation inside the chroot with build/gimp-plugin.sh, drives GIMP 3 headless
#    (tests/gimp/batch.py) and bookworm's gegl, and checks everything with the core.
# Needs root (debootstrap, chroot, mount). Environment: PERTOUCH_GIMP3_ENV (the
# chroot tool, default ../shared/tools/gimp3-env.sh).
set -euo pipefail
cd "$(dirname "$0")/.."

die() { echo "error: $*" >&2; exit 1; }
step() { echo "== $* (at ${SECONDS}s)"; }

[ "$(id -u)" -eq 0 ] || die "the GIMP 3 test needs root (it builds and enters a Debian trixie chroot); run: sudo $0"
tool=${PERTOUCH_GIMP3_ENV:-../shared/tools/gimp3-env.sh}
[ -x "$tool" ] || die "$tool is missing: it builds the GIMP 3 chroot (set PERTOUCH_GIMP3_ENV)"
tool=$(realpath "$tool")

missing=()
command -v gegl >/dev/null || missing+=(gegl)
command -v pkg-config >/dev/null || missing+=(pkg-config)
command -v cc >/dev/null || missing+=(gcc)
{ command -v pkg-config >/dev/null && pkg-config --exists gegl-0.4; } || missing+=(libgegl-dev)
if [ ${#missing[@]} -gt 0 ]; then
  step "installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  # Stale package lists name versions the mirror no longer has: refresh and retry.
  apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null 2>&1 ||
    { apt-get update -q >/dev/null && apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null; }
fi

step "GIMP 3 chroot"
"$tool" ensure >/dev/null

# build/test.sh passes the library and the CLI its earlier steps built
# (PERTOUCH_GIMP_LIB, PERTOUCH_CLI): building them again here for this package
# set alone cost about 3 minutes of CI.
lib=${PERTOUCH_GIMP_LIB:-}
cli=${PERTOUCH_CLI:-}
if [ -z "$lib" ] || [ -z "$cli" ]; then
  step "libpertouch and the CLI"
  [ -n "$lib" ] || { cargo build --locked -q -p pertouch-capi; lib=$PWD/target/debug/libpertouch.so; }
  [ -n "$cli" ] || { cargo build --locked -q -p pertouch-cli; cli=$PWD/target/debug/pertouch; }
fi
[ -f "$lib" ] || die "$lib does not exist"
[ -x "$cli" ] || die "$cli does not exist"
lib=$(realpath "$lib")
cli=$(realpath "$cli")

step "the GEGL operation for the host's GEGL ($(pkg-config --modversion gegl-0.4))"
build/gimp-plugin.sh --gegl-only --lib "$lib" --profile dev \
  --out target/gimp-e2e/host >/dev/null

step "end-to-end tests"
# The same package set as build/test.sh's lean test step, so cargo reuses that
# build (features are resolved per package set).
PERTOUCH_GIMP3_ENV=$tool \
PERTOUCH_GIMP_LIB=$lib \
PERTOUCH_CLI=$cli \
PERTOUCH_GEGL_HOST=$PWD/target/gimp-e2e/host \
  cargo test --locked -q -p pertouch-capi -p pertouch-ofx -p pertouch-e2e --test gimp_plugin -- --ignored
step "GIMP 3 end-to-end passed"
