#!/bin/sh
# run.sh LURE_BIN: the benchmarks (not pass/fail): connection rate against
# nginx side by side, RSS idle and with 1,000 / 4,000 idle connections.
exec python3 test/bench/bench.py "$@"
