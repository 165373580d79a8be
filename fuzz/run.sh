#!/usr/bin/env bash
# Runs every fuzz target (or those named) with the limits docs/RELIABILITY.md
# states: each input within 1 s and 2 GB, RUNS executions per target (default
# 1,000,000). New inputs go to fuzz/work/<target>/, seeds are read from
# fuzz/corpus/<target>/, crashes land in fuzz/artifacts/<target>/. Needs
# cargo-fuzz (`cargo install cargo-fuzz --locked`) and nightly Rust, or stable
# with RUSTC_BOOTSTRAP=1 (used when no nightly toolchain is installed).
#   fuzz/run.sh                      # all targets, 10^6 runs each
#   RUNS=20000 fuzz/run.sh manifest  # one target, a short smoke run
set -euo pipefail
cd "$(dirname "$0")"
runs="${RUNS:-1000000}"
toolchain=+nightly
if ! rustup toolchain list 2>/dev/null | grep -q '^nightly'; then
  toolchain=+stable
  export RUSTC_BOOTSTRAP=1
fi
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
  mapfile -t targets < <(cargo "$toolchain" fuzz list)
fi
mkdir -p work/logs
cargo "$toolchain" fuzz build -O
for t in "${targets[@]}"; do
  mkdir -p "work/$t"
  echo "== $t: $runs runs"
  start=$(date +%s)
  cargo "$toolchain" fuzz run -O "$t" "work/$t" "corpus/$t" -- \
    -runs="$runs" -rss_limit_mb=2048 -malloc_limit_mb=2048 -timeout=1 \
    -print_final_stats=1 > "work/logs/$t.log" 2>&1 || {
      echo "$t FAILED after $(( $(date +%s) - start )) s; see fuzz/work/logs/$t.log"; tail -30 "work/logs/$t.log"; exit 1; }
  echo "$t: $(grep -E '^stat::number_of_executed_units' "work/logs/$t.log" | awk '{print $2}') executions, $(grep -E '^stat::peak_rss_mb' "work/logs/$t.log" | awk '{print $2}') MB peak, $(( $(date +%s) - start )) s"
done
