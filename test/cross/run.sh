#!/bin/sh
# test/cross/run.sh PERSONA TARGET...: `make test-cross`. For each target
# and each TLS backend (CROSS_TLS, default "mbedtls bearssl"): build the
# static binary (tools/floatcheck.sh runs at its link) and the unit tests,
# run the unit tests under qemu-user (x86_64 natively), then start the
# binary under qemu-user on loopback against real clients: test/it's curl
# and telnet tests (all of test_clients.py on the mbedTLS build, the curl
# GET and the telnet login on the others), then test/cross/test_cross.py
# (idle RSS, a TLS handshake of the cross-built client under qemu); on
# mips (CROSS_HTTPS_TARGET) also the hikvision persona's HTTPS suite
# (test/persona/test_hik_https.py: the TLS server side).
# CROSS_PAR targets (default 2) go at once: the unit tests under qemu-user
# take one core each. Prints one line per step (each target's lines together,
# in order) and a summary; exit 1 when any step failed.
set -u
persona=$1
shift
top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top"
backends=${CROSS_TLS:-mbedtls bearssl}
jobs=${CROSS_JOBS:-2}
par=${CROSS_PAR:-2}
passed=0 failed=0
fails=""

step() { # step <name> <command...>
	name=$1
	shift
	t0=$(date +%s)
	if "$@" > "$log" 2>&1; then
		passed=$((passed + 1))
		echo "test-cross: ok   $name ($(($(date +%s) - t0)) s)"
	else
		failed=$((failed + 1))
		fails="$fails $name"
		echo "test-cross: FAIL $name ($(($(date +%s) - t0)) s), last lines:"
		tail -25 "$log" | sed 's/^/    /'
	fi
}

qemu_of() {
	case "$1" in
	x86_64) echo "" ;;
	aarch64) echo qemu-aarch64-static ;;
	armhf) echo qemu-arm-static ;;
	mipsel) echo qemu-mipsel-static ;;
	mips) echo qemu-mips-static ;;
	*) echo "test-cross: unknown target $1" >&2 && exit 2 ;;
	esac
}

mkdir -p build/cross
: > build/cross/rss.txt

# one target, both backends: its lines in build/cross/<t>.out, its counts
# and failed steps in build/cross/<t>.res, its RSS lines in <t>.rss
target() {
	t=$1
	log=build/cross/step-$t.log
	: > "build/cross/$t.rss"
	q=$(qemu_of "$t")
	for b in $backends; do
		suffix=""
		[ "$b" = mbedtls ] || suffix=-$b
		d=build/$t-$persona$suffix
		tc=build/tls-test-$t/tls_client
		[ "$b" = mbedtls ] || tc=${tc}_$b
		step "$t/$b build" make --no-print-directory -j"$jobs" \
			TARGET="$t" TLS="$b" PERSONA="$persona" "$d/lure" "$d/unit" \
			"$tc"
		[ -x "$d/lure" ] || continue
		step "$t/$b unit" $q "$d/unit"
		# LURE_BIN: the binary, or a wrapper that runs it under qemu
		# (signals reach the guest: qemu forwards them)
		bin=$top/$d/lure
		if [ -n "$q" ]; then
			bin=$top/build/cross/lure-$t-$b
			printf '#!/bin/sh\nexec %s %s "$@"\n' "$q" "$top/$d/lure" > "$bin"
			chmod +x "$bin"
		fi
		k=""
		[ "$b" = mbedtls ] || k="test_curl_get or test_telnet_client_login"
		step "$t/$b clients" env LURE_BIN="$bin" LURE_PERSONA="$persona" \
			python3 -m pytest -q -p no:cacheprovider \
			test/it/test_clients.py ${k:+-k "$k"}
		step "$t/$b cross" env LURE_BIN="$bin" LURE_PERSONA="$persona" \
			LURE_CROSS_TARGET="$t" LURE_CROSS_TLS="$b" \
			LURE_CROSS_QEMU="$q" LURE_CROSS_DIR="$top/$d" \
			python3 -m pytest -q -p no:cacheprovider -s test/cross
		grep -a '^RSS idle' "$log" >> "build/cross/$t.rss" || true
		# the TLS server side (emulated HTTPS of a persona with a tls
		# port) on the most foreign target: big-endian, soft-float,
		# MIPS16
		[ "$t" = "${CROSS_HTTPS_TARGET:-mips}" ] &&
			[ -f test/persona/test_hik_https.py ] || continue
		hd=build/$t-hikvision$suffix
		step "$t/$b https build" make --no-print-directory -j"$jobs" \
			TARGET="$t" TLS="$b" PERSONA=hikvision "$hd/lure"
		printf '#!/bin/sh\nexec %s %s "$@"\n' "$q" "$top/$hd/lure" \
			> "$bin-hik"
		chmod +x "$bin-hik"
		step "$t/$b https" env LURE_BIN="$bin-hik" \
			LURE_PERSONA=hikvision python3 -m pytest -q \
			-p no:cacheprovider test/persona/test_hik_https.py
	done
	echo "$passed $failed$fails" > "build/cross/$t.res"
}

# $par targets at a time; each batch's lines printed when it is done
total_p=0 total_f=0 all_fails=""
while [ $# -gt 0 ]; do
	batch=""
	n=0
	while [ $# -gt 0 ] && [ "$n" -lt "$par" ]; do
		qemu_of "$1" > /dev/null || exit 2
		rm -f "build/cross/$1.res"
		target "$1" > "build/cross/$1.out" 2>&1 &
		batch="$batch $1"
		n=$((n + 1))
		shift
	done
	wait
	for t in $batch; do
		cat "build/cross/$t.out"
		cat "build/cross/$t.rss" >> build/cross/rss.txt 2>/dev/null
		if [ -f "build/cross/$t.res" ]; then
			read -r p f rest < "build/cross/$t.res"
		else
			p=0 f=1 rest=" $t"
		fi
		total_p=$((total_p + p))
		total_f=$((total_f + f))
		all_fails="$all_fails${rest:+ $rest}"
	done
done
passed=$total_p failed=$total_f fails=$all_fails
sed 's/^/test-cross: /' build/cross/rss.txt
echo "test-cross: $passed passed, $failed failed"
[ "$failed" = 0 ] || { echo "test-cross: failed:$fails"; exit 1; }
