#!/bin/bash
# bench/ab.py on every benchmark model, one after another: OLD against NEW.
#
#   bash bench/ab_all.sh OLD_RECUR NEW_RECUR [ROUNDS]
#
# PAUSE_PID=PID pauses that process (SIGSTOP) for the whole sweep and resumes it after, even on
# Ctrl-C: a long training run sharing the machine would otherwise time itself into the figures.
set -euo pipefail
old=$1 new=$2 rounds=${3:-8}
here=$(dirname "$0")
if [ -n "${PAUSE_PID:-}" ]; then
    kill -STOP "$PAUSE_PID"
    trap 'kill -CONT "$PAUSE_PID"' EXIT
fi
for model in ch05 ch06 small medium gru-medium char classify; do
    echo "== $model $(date -u +%T)"
    python3 "$here/ab.py" "$model" --rounds "$rounds" "$old" "$new"
done
