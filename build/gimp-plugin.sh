#!/usr/bin/env bash
# Builds PerTouch for GIMP 3: libpertouch (the Rust core's C ABI, without network
# code), the GEGL operation pertouch:retouch (GIMP's non-destructive filter) and
# the GIMP plug-in "PerTouch..." (Colors menu), and with --install puts them where
# GIMP 3 and GEGL look for them.
#
#   build/gimp-plugin.sh                 # build into target/gimp/
#   build/gimp-plugin.sh --install       # ... and install for this user:
#       plug-in:  ${GIMP3_DIRECTORY:-~/.config/GIMP/3.0}/plug-ins/pertouch/
#       GEGL op:  ${XDG_DATA_HOME:-~/.local/share}/gegl-0.4/plug-ins/pertouch/
#   --plugin-dir DIR     GIMP plug-in folder to install into (DIR/pertouch/) instead
#   --gegl-dir DIR       GEGL plug-in folder to install into (DIR/pertouch/) instead
#   --gegl-only          build (and install) only the GEGL operation: needs GEGL's
#                        development files but not GIMP's
#   --lib FILE           use this libpertouch.so instead of building it with cargo
#                        (e.g. in a build root without Rust)
#   --profile P          cargo profile for libpertouch: release (default) or dev
#   --out DIR            build folder (default target/gimp)
#   --keep-debug         do not strip libpertouch (release builds are stripped)
#
# Layout (each folder carries its own copy of libpertouch, found through the
# binaries' $ORIGIN run path; it is named libpertouch.so.1 so that GEGL, which
# loads every *.so under its plug-in folders, does not take it for a module):
#   OUT/plug-ins/pertouch/pertouch                  the GIMP plug-in
#   OUT/plug-ins/pertouch/libpertouch.so.1
#   OUT/gegl-0.4/plug-ins/pertouch/pertouch-retouch.so   the GEGL operation
#   OUT/gegl-0.4/plug-ins/pertouch/libpertouch.so.1
# Linux only for now (macOS and Windows GIMP 3 builds: plugin-gimp/README.md).
set -euo pipefail
cd "$(dirname "$0")/.."

profile=release
out=target/gimp
install=""
plugin_dir=""
gegl_dir=""
gegl_only=""
lib=""
keep_debug=""
while [ $# -gt 0 ]; do
  case "$1" in
    --install) install=1; shift ;;
    --plugin-dir) plugin_dir="$2"; shift 2 ;;
    --gegl-dir) gegl_dir="$2"; shift 2 ;;
    --gegl-only) gegl_only=1; shift ;;
    --lib) lib="$2"; shift 2 ;;
    --profile) profile="$2"; shift 2 ;;
    --out) out="$2"; shift 2 ;;
    --keep-debug) keep_debug=1; shift ;;
    -h|--help) awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"; exit 0 ;;
    *) echo "error: unknown argument $1 (see --help)" >&2; exit 2 ;;
  esac
done

die() { echo "error: $*" >&2; exit 1; }

[ "$(uname -s)" = Linux ] || die "this script builds the Linux layout only; see plugin-gimp/README.md for macOS and Windows"
CC=${CC:-cc}
command -v "$CC" >/dev/null || die "no C compiler ($CC); install gcc (Debian/Ubuntu: sudo apt install gcc)"
command -v pkg-config >/dev/null || die "pkg-config is missing (Debian/Ubuntu: sudo apt install pkg-config)"

if ! pkg-config --exists gegl-0.4 babl-0.1 2>/dev/null && ! pkg-config --exists gegl-0.4 babl 2>/dev/null; then
  cat >&2 <<'EOF'
error: GEGL's development files (gegl-0.4.pc) are missing. Install them:
  Debian / Ubuntu:  sudo apt install libgegl-dev
  Fedora:           sudo dnf install gegl04-devel
  Arch:             sudo pacman -S gegl
EOF
  exit 1
fi
if [ -z "$gegl_only" ] && ! pkg-config --atleast-version=3.0 gimpui-3.0 2>/dev/null; then
  {
    echo "error: GIMP 3's development files (gimpui-3.0.pc) are missing."
    if pkg-config --exists gimp-2.0 2>/dev/null; then
      echo "       (GIMP 2.10's are installed; PerTouch needs GIMP 3.0 or newer.)"
    fi
    cat <<'EOF'
Install them:
  Debian 13 (trixie) and newer, Ubuntu 25.04 and newer:  sudo apt install libgimp-3.0-dev
  Fedora 42 and newer:                                    sudo dnf install gimp-devel
  Arch:                                                   sudo pacman -S gimp
  Flatpak GIMP: build the Flatpak extension instead (plugin-gimp/README.md).
Or build only the GEGL operation (GIMP's filter, usable in any GEGL host):
  build/gimp-plugin.sh --gegl-only
EOF
  } >&2
  exit 1
fi

# libpertouch, built for this package alone: cargo resolves features per package,
# so the core comes without the network (VLM) code a workspace build would add.
if [ -z "$lib" ]; then
  command -v cargo >/dev/null || die "Rust is required to build libpertouch (cargo >= 1.92: https://rustup.rs), or pass --lib FILE"
  echo "== building libpertouch ($profile)"
  cargo build --locked --profile "$profile" -p pertouch-capi
  dir=$profile; [ "$profile" = dev ] && dir=debug
  lib="target/$dir/libpertouch.so"
fi
[ -f "$lib" ] || die "$lib does not exist"

warn=(-Wall -Wextra -Werror -std=gnu11)
# The binaries find libpertouch.so.1 beside themselves ($ORIGIN is the linker's,
# not the shell's).
# shellcheck disable=SC2016
rpath='-Wl,-rpath,$ORIGIN'
# GEGL's and GIMP's headers are included as system headers: -Werror is for our
# code (GIMP 3.0.4's gimpspinscale.h alone trips -Wignored-qualifiers).
pkg_flags() {
  local cflags libs
  cflags=$(pkg-config --cflags "$@" | sed -E 's/(^| )-I/\1-isystem /g')
  libs=$(pkg-config --libs "$@")
  echo "$cflags $libs"
}
read -r -a cflags <<< "${CFLAGS:--O2 -g}"
gegl_out="$out/gegl-0.4/plug-ins/pertouch"
plug_out="$out/plug-ins/pertouch"
rm -rf "$out/gegl-0.4" "$out/plug-ins"
mkdir -p "$gegl_out"

place_lib() {
  cp "$lib" "$1/libpertouch.so.1"
  chmod 644 "$1/libpertouch.so.1"
  if [ -z "$keep_debug" ] && [ "$profile" = release ] && command -v strip >/dev/null; then
    strip --strip-debug "$1/libpertouch.so.1"
  fi
}

# Checks that a built binary exports `symbols` and finds libpertouch beside it.
check_binary() {
  local file=$1; shift
  for s in "$@"; do
    nm -D --defined-only "$file" | grep -q " $s\$" || die "$file does not export $s"
  done
  if ldd "$file" | grep -q "libpertouch.so.1 => not found"; then
    die "$file does not find libpertouch.so.1 beside it"
  fi
}

echo "== building the GEGL operation pertouch:retouch"
place_lib "$gegl_out"
read -r -a gegl_flags <<< "$(pkg_flags gegl-0.4)"
"$CC" "${cflags[@]}" "${warn[@]}" -fPIC -shared -o "$gegl_out/pertouch-retouch.so" \
  plugin-gimp/gegl/pertouch-retouch.c -Iplugin-gimp/gegl -Iplugin-gimp/common -Icapi/include \
  -L"$gegl_out" -l:libpertouch.so.1 "$rpath" "${gegl_flags[@]}" -lm
check_binary "$gegl_out/pertouch-retouch.so" gegl_module_query gegl_module_register

if [ -z "$gegl_only" ]; then
  echo "== building the GIMP plug-in"
  mkdir -p "$plug_out"
  place_lib "$plug_out"
  read -r -a gimp_flags <<< "$(pkg_flags gimpui-3.0 json-glib-1.0)"
  "$CC" "${cflags[@]}" "${warn[@]}" -o "$plug_out/pertouch" plugin-gimp/src/*.c \
    -Iplugin-gimp/src -Iplugin-gimp/common -Icapi/include \
    -L"$plug_out" -l:libpertouch.so.1 "$rpath" "${gimp_flags[@]}" -lm
  check_binary "$plug_out/pertouch" main
fi
echo "built $out"

# Copies folder $1 to $2 beside the old one, then swaps, so that GIMP never
# finds half a plug-in.
install_folder() {
  local from=$1 to=$2
  mkdir -p "$(dirname "$to")" 2>/dev/null || die "cannot create $(dirname "$to")"
  [ -w "$(dirname "$to")" ] || die "cannot write to $(dirname "$to")"
  rm -rf "$to.new"
  cp -R "$from" "$to.new"
  rm -rf "$to"
  mv "$to.new" "$to"
  echo "installed $to"
}

if [ -n "$install" ]; then
  [ -n "$gegl_dir" ] || gegl_dir="${XDG_DATA_HOME:-$HOME/.local/share}/gegl-0.4/plug-ins"
  install_folder "$gegl_out" "$gegl_dir/pertouch"
  if [ -z "$gegl_only" ]; then
    [ -n "$plugin_dir" ] || plugin_dir="${GIMP3_DIRECTORY:-$HOME/.config/GIMP/3.0}/plug-ins"
    install_folder "$plug_out" "$plugin_dir/pertouch"
    echo "restart GIMP 3: PerTouch... is in the Colors menu"
  fi
fi
