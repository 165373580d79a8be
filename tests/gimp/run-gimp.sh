#!/bin/sh
# Inside the GIMP 3 chroot (tests/gimp_plugin.rs runs this through
# gimp3-env.sh, in the repository root): builds the plug-in and the GEGL
# operation against this GIMP with build/gimp-plugin.sh, installs them into a
# scratch GIMP folder and GEGL data folder under $PT_WORK (the install the
# README describes, with the folders moved), and runs tests/gimp/batch.py in
# gimp-console. $PT_LIB is the libpertouch built on the host (no Rust here).
set -eu
: "${PT_WORK:?}" "${PT_LIB:?}"
export GIMP3_DIRECTORY="$PT_WORK/gimp" XDG_DATA_HOME="$PT_WORK/data" PERTOUCH_DATA_DIR="$PT_WORK/pertouch"
build/gimp-plugin.sh --lib "$PT_LIB" --profile dev --out "$PT_WORK/build" --install \
  --plugin-dir "$GIMP3_DIRECTORY/plug-ins" --gegl-dir "$XDG_DATA_HOME/gegl-0.4/plug-ins"
exec gimp-console-3.0 -i --batch-interpreter=python-fu-eval \
  -b "exec(open('$PWD/tests/gimp/batch.py').read())" --quit
