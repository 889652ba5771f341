#!/bin/sh
# run.sh LURE_BIN [SECONDS [ROUNDS]]: the benchmarks (not pass/fail): HTTP
# connection rate and CPU per request against nginx side by side
# (interleaved rounds, medians, the ratio), RSS idle and with 1,000 / 4,000
# idle connections. LURE_BENCH_OFFSET moves the ports (default 31000).
exec python3 test/bench/bench.py "$@"
