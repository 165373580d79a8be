#!/usr/bin/env bash
# Runs the OpenFX bundle in a real host nobody on this project wrote: MLT's
# openfx module (melt 7.42 from Debian sid; bookworm's and trixie's MLT have no
# openfx module), and checks its pictures against the core (tests/ofx_mlt.rs:
# pixel aspects 8/9, 16/15 and 4/3, render scale 0.5, 16-bit, an animated
# sequence, words without Apply, bad state JSON, clamped values).
#
#   build/ofx-mlt-e2e.sh --bundle DIR     # a built PerTouch.ofx.bundle
#   build/ofx-mlt-e2e.sh                  # bundles target/debug/deps/libpertouch_ofx.so
#   build/ofx-mlt-e2e.sh --out DIR        # keep the before/after pictures and melt logs
#   build/ofx-mlt-e2e.sh --rebuild-host   # make the cached host again
#
# The host is a Debian sid root made once with mmdebstrap and cached in
# ${XDG_CACHE_HOME:-$HOME/.cache}/pertouch-mlt-host (about 1 GB; about a minute
# the first time, seconds later); melt runs in it by chroot, so this needs root
# (CI has it). PERTOUCH_MLT_ROOT=DIR uses another such root (one with melt),
# PERTOUCH_MLT_MIRROR a Debian mirror (default: the one this machine's apt uses).
set -euo pipefail
cd "$(dirname "$0")/.."

bundle=""
out=""
rebuild=""
while [ $# -gt 0 ]; do
  case "$1" in
    --bundle) bundle="$2"; shift 2 ;;
    --out) out="$2"; shift 2 ;;
    --rebuild-host) rebuild=1; shift ;;
    -h|--help) awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"; exit 0 ;;
    *) echo "error: unknown argument $1 (see --help)" >&2; exit 2 ;;
  esac
done
say() { printf '== %s\n' "$*"; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }
[ "$(id -u)" = 0 ] || die "the MLT host runs melt by chroot, which needs root (sudo $0)"

cache=${XDG_CACHE_HOME:-$HOME/.cache}/pertouch-mlt-host
root=${PERTOUCH_MLT_ROOT:-$cache/sid-root}

# The Debian mirror this machine's apt already uses.
mirror() {
  if [ -n "${PERTOUCH_MLT_MIRROR:-}" ]; then echo "${PERTOUCH_MLT_MIRROR%/}"; return; fi
  local uri
  # shellcheck disable=SC2016 # $(FIELD) is apt's format syntax
  uri=$(apt-get indextargets --format '$(ORIGIN)|$(REPO_URI)' 2>/dev/null |
    awk -F'|' '$1 == "Debian" && $2 !~ /security/ { print $2; exit }') || true
  [ -n "$uri" ] || uri=$(grep -hoE '^(URIs:|deb) +[a-z]+://[^ ]+' /etc/apt/sources.list /etc/apt/sources.list.d/* 2>/dev/null |
    grep -v security | awk '{ print $2 }' | head -n1) || true
  [ -n "$uri" ] || die "no Debian mirror in /etc/apt; set PERTOUCH_MLT_MIRROR"
  echo "${uri%/}"
}

if [ -n "$rebuild" ] || [ ! -x "$root/usr/bin/melt" ]; then
  [ -z "${PERTOUCH_MLT_ROOT:-}" ] || die "PERTOUCH_MLT_ROOT=$root has no usr/bin/melt"
  command -v mmdebstrap >/dev/null || {
    say "installing mmdebstrap"
    apt-get install -y -q mmdebstrap >/dev/null 2>&1 || { apt-get update -q >/dev/null && apt-get install -y -q mmdebstrap >/dev/null; }
  }
  mkdir -p "$cache"
  rm -rf "$root.tmp"
  say "making the MLT host: Debian sid + melt (mmdebstrap, once)"
  t0=$SECONDS
  # Check-Valid-Until off: a mirror snapshot's sid Release file may look expired.
  mmdebstrap --mode=root --variant=apt --include=melt \
    --aptopt='APT::Install-Recommends "false"' --aptopt='Acquire::Check-Valid-Until "false"' \
    sid "$root.tmp" "deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $(mirror) sid main" \
    > "$cache/mmdebstrap.log" 2>&1 || { tail -20 "$cache/mmdebstrap.log" >&2; die "mmdebstrap failed (log: $cache/mmdebstrap.log)"; }
  [ -f "$root.tmp/usr/lib/x86_64-linux-gnu/mlt-7/libmltopenfx.so" ] || die "Debian sid's melt has no openfx module"
  rm -rf "$root" && mv "$root.tmp" "$root"
  say "host ready in $((SECONDS - t0)) s"
fi
version=$(chroot "$root" /usr/bin/env -i PATH=/usr/bin:/bin melt --version 2>/dev/null < /dev/null | head -n1)
say "host: $version (MLT openfx module), root $root"

if [ -z "$bundle" ]; then
  lib=target/debug/deps/libpertouch_ofx.so
  [ -f "$lib" ] || die "$lib is not built (cargo build -p pertouch-ofx, or give --bundle DIR)"
  bundle=$(mktemp -d)/out/PerTouch.ofx.bundle
  build/ofx-bundle.sh --binary "$lib" --out "$(dirname "$bundle")" >/dev/null
fi
[ -f "$bundle/Contents/Linux-x86-64/PerTouch.ofx" ] || die "$bundle has no Contents/Linux-x86-64/PerTouch.ofx"

# The bundle goes into a plug-in folder of this run's own inside the root.
plugins=/pertouch-ofx.$$
trap 'rm -rf "${root:?}$plugins"' EXIT
mkdir -p "$root$plugins"
cp -a "$bundle" "$root$plugins/"
filters=$(chroot "$root" /usr/bin/env -i PATH=/usr/bin:/bin OFX_PLUGIN_PATH="$plugins" melt -query filters < /dev/null 2>&1) || true
grep -q 'openfx.org.pertouch.PerTouch' <<< "$filters" || die "melt did not load the bundle (melt -query filters)"
say "melt loads openfx.org.pertouch.PerTouch"

[ -z "$out" ] || { mkdir -p "$out"; out=$(cd "$out" && pwd); }
PERTOUCH_MLT_ROOT="$root" PERTOUCH_MLT_PLUGINS="$plugins" PERTOUCH_REQUIRE_MLT=1 PERTOUCH_MLT_OUT="$out" \
  cargo test --locked -p pertouch-e2e --test ofx_mlt -- --test-threads 1 --nocapture
