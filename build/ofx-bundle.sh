#!/usr/bin/env bash
# Builds the OpenFX plug-in, assembles PerTouch.ofx.bundle and (with --install)
# installs it where OpenFX hosts (Natron, Nuke, Resolve, ...) look for plug-ins.
#
#   build/ofx-bundle.sh                     # release build -> target/ofx/PerTouch.ofx.bundle
#   build/ofx-bundle.sh --install           # ... and install into $OFX_PLUGIN_PATH
#                                           #     (first entry) or the platform default
#   build/ofx-bundle.sh --install DIR       # ... or into DIR
#   build/ofx-bundle.sh --profile dev --out DIR
#   build/ofx-bundle.sh --binary FILE ...   # bundle an already built library (no build)
#   build/ofx-bundle.sh --keep-debug        # release builds are stripped (60 MB -> 5 MB)
#                                           # unless this is given
#
# Bundle layout (OpenFX 1.4 "Packaging OFX Plug-ins"):
#   PerTouch.ofx.bundle/Contents/Info.plist
#   PerTouch.ofx.bundle/Contents/Resources/org.pertouch.PerTouch.png   (the icon)
#   PerTouch.ofx.bundle/Contents/Linux-x86-64/PerTouch.ofx   Linux, 64-bit x86
#   PerTouch.ofx.bundle/Contents/MacOS/PerTouch.ofx          macOS (x86_64 or arm64)
#   PerTouch.ofx.bundle/Contents/Win64/PerTouch.ofx          Windows, 64-bit (the .dll renamed)
# Default plug-in folders: /usr/OFX/Plugins (Linux), /Library/OFX/Plugins (macOS),
# C:\Program Files\Common Files\OFX\Plugins (Windows).
set -euo pipefail
cd "$(dirname "$0")/.."

profile=release
out=target/ofx
install=""
install_dir=""
binary=""
keep_debug=""
while [ $# -gt 0 ]; do
  case "$1" in
    --profile) profile="$2"; shift 2 ;;
    --out) out="$2"; shift 2 ;;
    --binary) binary="$2"; shift 2 ;;
    --keep-debug) keep_debug=1; shift ;;
    --install)
      install=1
      if [ $# -gt 1 ] && [ "${2#--}" = "$2" ]; then install_dir="$2"; shift; fi
      shift ;;
    -h|--help) awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"; exit 0 ;;
    *) echo "error: unknown argument $1 (see --help)" >&2; exit 2 ;;
  esac
done

case "$(uname -s)-$(uname -m)" in
  Linux-x86_64) arch=Linux-x86-64; lib=libpertouch_ofx.so; default_dir=/usr/OFX/Plugins ;;
  Darwin-*) arch=MacOS; lib=libpertouch_ofx.dylib; default_dir=/Library/OFX/Plugins ;;
  MINGW*-x86_64|MSYS*-x86_64|CYGWIN*-x86_64)
    arch=Win64; lib=pertouch_ofx.dll; default_dir="/c/Program Files/Common Files/OFX/Plugins" ;;
  *) echo "error: no OpenFX bundle layout for $(uname -s) $(uname -m)" >&2; exit 1 ;;
esac

if [ -z "$binary" ]; then
  echo "== building the plug-in ($profile)"
  cargo build --locked --profile "$profile" -p pertouch-ofx
  dir=$profile; [ "$profile" = dev ] && dir=debug
  binary="target/$dir/$lib"
fi
[ -f "$binary" ] || { echo "error: $binary was not built" >&2; exit 1; }

version=$(sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -n 1)
bundle="$out/PerTouch.ofx.bundle"
rm -rf "$bundle.tmp"
mkdir -p "$bundle.tmp/Contents/$arch" "$bundle.tmp/Contents/Resources"
cp "$binary" "$bundle.tmp/Contents/$arch/PerTouch.ofx"
if [ "$profile" = release ] && [ -z "$keep_debug" ] && [ "$arch" = Linux-x86-64 ] && command -v strip >/dev/null; then
  strip "$bundle.tmp/Contents/$arch/PerTouch.ofx"
fi
cp plugin-ofx/resources/org.pertouch.PerTouch.png "$bundle.tmp/Contents/Resources/"
sed "s/@VERSION@/$version/g" plugin-ofx/resources/Info.plist > "$bundle.tmp/Contents/Info.plist"
rm -rf "$bundle"
mv "$bundle.tmp" "$bundle"
echo "assembled $bundle"

if [ -n "$install" ]; then
  if [ -z "$install_dir" ]; then
    install_dir="${OFX_PLUGIN_PATH%%:*}"
    [ -n "$install_dir" ] || install_dir="$default_dir"
  fi
  if ! mkdir -p "$install_dir" 2>/dev/null || [ ! -w "$install_dir" ]; then
    echo "error: cannot write to $install_dir. Run with sudo, or install into a folder of" >&2
    echo "       your own and point the host at it: OFX_PLUGIN_PATH=DIR build/ofx-bundle.sh --install" >&2
    exit 1
  fi
  # Copy beside the old bundle, then swap: a host never sees a half-copied bundle.
  rm -rf "$install_dir/PerTouch.ofx.bundle.new"
  cp -R "$bundle" "$install_dir/PerTouch.ofx.bundle.new"
  rm -rf "$install_dir/PerTouch.ofx.bundle"
  mv "$install_dir/PerTouch.ofx.bundle.new" "$install_dir/PerTouch.ofx.bundle"
  echo "installed $install_dir/PerTouch.ofx.bundle"
  case ":${OFX_PLUGIN_PATH:-}:" in
    *":$install_dir:"*) ;;
    *) [ "$install_dir" = "$default_dir" ] || echo "note: hosts find it with OFX_PLUGIN_PATH=$install_dir" ;;
  esac
fi
