#!/bin/sh
# run.sh TRANSCRIPT PERSONA: run test/emu/PERSONA/*.t, compare with .exp
# (UPDATE=1 rewrites the .exp files). Prints "N passed, N failed".
bin=$1 persona=$2 pass=0 fail=0
for t in test/emu/"$persona"/*.t; do
	[ -e "$t" ] || continue
	exp=${t%.t}.exp
	if ! out=$("$bin" "$t"); then
		echo "FAIL $t (driver error)"; fail=$((fail + 1)); continue
	fi
	if [ "${UPDATE:-0}" = 1 ]; then
		printf '%s\n' "$out" > "$exp"; echo "updated $exp"; pass=$((pass + 1)); continue
	fi
	if printf '%s\n' "$out" | cmp -s - "$exp"; then
		pass=$((pass + 1))
	else
		echo "FAIL $t"; printf '%s\n' "$out" | diff -u "$exp" - | head -40
		fail=$((fail + 1))
	fi
done
echo "transcripts: $pass passed, $fail failed"
[ "$fail" = 0 ]
