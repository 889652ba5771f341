#!/bin/sh
# run.sh BUILD_DIR SECONDS TARGET...: run each libFuzzer target for SECONDS
# from its committed seed corpus (test/fuzz/corpus/<target>/), new inputs
# go to BUILD_DIR/corpus/<target>/, crashes to BUILD_DIR/crash-*. FUZZ_JOBS
# targets (default 1) run at once, one core each. Prints the executions per
# target and fails if any target crashed.
dir=$1 secs=$2
shift 2
jobs=${FUZZ_JOBS:-1}
fail=0

run_one() { # run_one <target>: the fuzzer, its exit code in fuzz_<t>.rc
	mkdir -p "$dir/corpus/$1" "test/fuzz/corpus/$1"
	"$dir/fuzz_$1" -max_total_time="$secs" -print_final_stats=1 \
		-artifact_prefix="$dir/crash-$1-" -max_len=4096 \
		"$dir/corpus/$1" "test/fuzz/corpus/$1" >"$dir/fuzz_$1.log" 2>&1
	echo $? >"$dir/fuzz_$1.rc"
}

report() { # report <target>
	log=$dir/fuzz_$1.log
	if [ "$(cat "$dir/fuzz_$1.rc" 2>/dev/null)" = 0 ]; then
		execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
		echo "fuzz $1: ok, $execs executions in ${secs}s"
	else
		echo "fuzz $1: FAILED (see $log)"
		tail -30 "$log"
		fail=1
	fi
}

# batches of $jobs targets: every target runs for the same SECONDS
while [ $# -gt 0 ]; do
	batch=""
	n=0
	while [ $# -gt 0 ] && [ "$n" -lt "$jobs" ]; do
		rm -f "$dir/fuzz_$1.rc"
		run_one "$1" &
		batch="$batch $1"
		n=$((n + 1))
		shift
	done
	wait
	for t in $batch; do
		report "$t"
	done
done
exit $fail
