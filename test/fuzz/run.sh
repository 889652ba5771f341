#!/bin/sh
# run.sh BUILD_DIR SECONDS TARGET...: run each libFuzzer target for SECONDS
# from its committed seed corpus (test/fuzz/corpus/<target>/), new inputs
# go to BUILD_DIR/corpus/<target>/, crashes to BUILD_DIR/crash-*. Prints the
# executions per target and fails if any target crashed.
dir=$1 secs=$2; shift 2
fail=0
for t in "$@"; do
	mkdir -p "$dir/corpus/$t" "test/fuzz/corpus/$t"
	log=$dir/fuzz_$t.log
	if "$dir/fuzz_$t" -max_total_time="$secs" -print_final_stats=1 \
		-artifact_prefix="$dir/crash-$t-" -max_len=4096 \
		"$dir/corpus/$t" "test/fuzz/corpus/$t" >"$log" 2>&1; then
		execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
		echo "fuzz $t: ok, $execs executions in ${secs}s"
	else
		echo "fuzz $t: FAILED (see $log)"; tail -30 "$log"; fail=1
	fi
done
exit $fail
