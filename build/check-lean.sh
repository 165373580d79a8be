#!/usr/bin/env bash
# Checks that the hosts that only render link no network code: the dependency trees
# of libpertouch (pertouch-capi) and the OpenFX plug-in (pertouch-ofx) hold no HTTP,
# TLS or async runtime crate, and the given built libraries carry no trace of one
# (symbols or source paths). The core's `vlm` feature is what brings those crates
# in; only the CLI (and the Photoshop bridge) turn it on.
#
#   build/check-lean.sh                          # dependency trees only
#   build/check-lean.sh target/debug/deps/libpertouch.so ...   # and these binaries
#
# Cargo unifies features across the packages of one build, so a library built by
# `cargo build --workspace` links the CLI's choice: check libraries built with
# `-p pertouch-capi -p pertouch-ofx ...` (as build/test.sh and build/ofx-bundle.sh do).
set -euo pipefail
cd "$(dirname "$0")/.."

network='reqwest|hyper|hyper-util|h2|rustls|tokio|tokio-rustls|webpki-roots'
failed=0
for pkg in pertouch-capi pertouch-ofx; do
  crates=$(cargo tree --locked --offline -p "$pkg" -e normal --prefix none -f '{p}' \
    | sed 's/ (\*)$//; s/ (proc-macro)$//' | sort -u)
  bad=$(grep -E "^($network) " <<<"$crates" || true)
  echo "$pkg: $(wc -l <<<"$crates") crates (cargo tree -p $pkg -e normal)"
  if [ -n "$bad" ]; then
    echo "error: $pkg depends on network crates:" >&2
    sed 's/^/  /' <<<"$bad" >&2
    failed=1
  fi
done
for bin in "$@"; do
  [ -f "$bin" ] || { echo "error: $bin does not exist" >&2; failed=1; continue; }
  # Symbol names (`7reqwest6Client`) and debug-info or panic source paths
  # (`reqwest-0.12.28/src/...`) both name the crate.
  hits=$(grep -a -o -E '(reqwest|hyper|rustls|tokio)(-[0-9]+\.[0-9]+|[0-9]+[A-Za-z_])' "$bin" | sort | uniq -c || true)
  if [ -n "$hits" ]; then
    echo "error: $bin carries network code:" >&2
    sed 's/^/  /' <<<"$hits" >&2
    failed=1
  else
    echo "$bin: no reqwest, hyper, rustls or tokio"
  fi
done
exit $failed
