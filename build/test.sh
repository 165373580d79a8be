#!/usr/bin/env bash
# Installs what the test suite needs and runs all of it: formatting, lints, unit,
# property, CLI and end-to-end tests. `.ci/run` calls exactly this.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v cargo >/dev/null 2>&1; then
  echo "error: Rust is required (cargo >= 1.89). Install it with rustup: https://rustup.rs" >&2
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

echo "== cargo fmt --check"
cargo fmt --all -- --check
echo "== cargo clippy (warnings are errors)"
cargo clippy --workspace --all-targets --locked -- -D warnings
echo "== cargo test"
cargo test --workspace --locked
