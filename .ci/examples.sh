#!/usr/bin/env bash
# CI for examples/: builds every example (the test profile's build, which `cargo test` has
# already compiled the crate for; `--release` as the first argument builds them optimised), then
# runs each at its tiny setting
# (RECUR_EXAMPLE_QUICK=1, a few seconds each), failing on the first that fails. Data comes from
# $RECUR_DATA (default ../shared/data); an example with a built-in fallback runs without it, and
# `sentiment`, which has none, is skipped with a message when its file is absent.
set -euo pipefail
cd "$(dirname "$0")/.."

export RECUR_DATA="${RECUR_DATA:-$(cd .. && pwd)/shared/data}"
export RECUR_EXAMPLE_QUICK=1

profile=debug
if [ "${1:-}" = --release ]; then
  profile=release
  cargo build --release --examples
else
  cargo build --examples
fi

for source in examples/*.rs; do
  name="$(basename "$source" .rs)"
  if [ "$name" = sentiment ] && [ ! -f "$RECUR_DATA/sentiment/imdb_labelled.txt" ]; then
    echo "== $name: SKIPPED ($RECUR_DATA/sentiment/imdb_labelled.txt not found)"
    continue
  fi
  echo "== $name"
  start=$(date +%s)
  "target/$profile/examples/$name"
  echo "== $name: ok in $(( $(date +%s) - start )) s"
done
