#!/bin/sh
# run.sh MKPERSONA: persona key checks (tools/mkpersona). Every persona in
# emu/personas/ must pass; each one in test/persona-bad/ must fail with
# exit status 2 and exactly the message below. Run from the top of the
# tree. Prints "N passed, N failed".
mk=$1 pass=0 fail=0 out=${TMPDIR:-/tmp}/mkpersona-test.$$
trap 'rm -f "$out"' EXIT

# the emulators of a persona, as the Makefile derives EMUS
emus() { awk '$1 == "port" { print $4 }' "$1"/*.conf | sort -u; }

# where a key is declared: FILE:LINE of " *   ... KEY ..." in its comment
decl() { echo "$1:$(grep -n "^ \*   .*$2" "$1" | head -1 | cut -d: -f1)"; }

ok() { pass=$((pass + 1)); }
bad() { echo "FAIL $1"; fail=$((fail + 1)); }

for d in emu/personas/*/; do
	d=${d%/}
	# shellcheck disable=SC2046
	if "$mk" "$d" "${d##*/}" $(emus "$d") >/dev/null 2>"$out" &&
		! [ -s "$out" ]; then ok; else bad "$d"; cat "$out"; fi
done

# expect CASE STATUS MESSAGE: test/persona-bad/CASE fails just so
expect() {
	d=test/persona-bad/$1
	# shellcheck disable=SC2046
	"$mk" "$d" "$1" $(emus "$d") >/dev/null 2>"$out"
	st=$?
	if [ "$st" = "$2" ] && [ "$(cat "$out")" = "$3" ]; then
		ok
	else
		bad "$d: status $st, want $2"
		printf 'want: %s\ngot:  %s\n' "$3" "$(cat "$out")"
	fi
}

p=test/persona-bad
expect typo 2 "$p/typo/telnet.conf:2: unknown key \"telnet.baner\" (did you mean telnet.banner?)"
expect missing 2 "$p/missing/ssh.conf: missing required key \"ssh.kex\" (declared at $(decl emu/ssh.c ssh.kex))"
expect missing-port 2 "$p/missing-port/persona.conf: missing required key \"discovery.37020.reply\" (declared at $(decl emu/discovery.c 'discovery.<port>.reply'))"
expect repeated 2 "$p/repeated/persona.conf:6: key \"telnet.banner\" given twice (first at $p/repeated/persona.conf:3): only the first is read"
expect port 2 "$p/port/persona.conf:4: unknown key \"banner.22\" (not a port of emulator banner here)"
expect noemu 2 "$p/noemu/persona.conf:3: unknown key \"telnet.banner\" (emulator telnet serves no port here)"

echo "mkpersona: $pass passed, $fail failed"
[ "$fail" = 0 ]
