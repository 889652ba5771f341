#!/bin/sh
# ship.sh [ship_bench.py options]: the shipping benchmark, lure's Elasticsearch
# shipper against rsyslog's omelasticsearch on one OpenSearch node, plain HTTP
# and through an nginx TLS front (see test/bench/ship_bench.py). Installs what
# is missing (rsyslog, rsyslog-elasticsearch, nginx-light, openssl; java and
# maven come from test/es/es.sh), builds lure's objects with
# `make B=build/bench` and links test/bench/shipbench.c against them.
# Loopback only. Not pass/fail: it prints a table (exit 1 if a count is off).
set -eu
cd "$(dirname "$0")/../.."

B=${SHIPBENCH_B:-build/bench}

installed() {
	dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "install ok installed"
}
need=""
for p in rsyslog rsyslog-elasticsearch openssl; do
	installed "$p" || need="$need $p"
done
command -v nginx >/dev/null || [ -x /usr/sbin/nginx ] || need="$need nginx-light"
if [ -n "$need" ]; then
	echo "ship.sh: apt-get install$need" >&2
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq >&2 || true
	# shellcheck disable=SC2086
	apt-get install -y -qq $need >&2
fi

# lure's objects (TLS=mbedtls), then the driver linked with them all but
# main.o: the Makefile's LIB_OBJ when make can tell it, else every object
make B="$B" "$B/lure" >&2
MBEDTLS=build/deps/host/mbedtls
OBJS=$(make -s B="$B" --eval 'shipbench-objs: ; @echo $(LIB_OBJ)' \
	shipbench-objs 2>/dev/null) || OBJS=""
[ -n "$OBJS" ] || OBJS="$(ls "$B"/src/*.o | grep -v '/main\.o$') \
	$(ls "$B"/emu/*.o) $B/persona_data.o $B/platform/linux.o"
# shellcheck disable=SC2086
cc -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror -Wundef -Wshadow \
	-Wstrict-prototypes -Wno-unused-parameter -O2 -g \
	-Isrc -Iplatform -Itest -I"$B" -I"$B/include" \
	-DLURE_VERSION="\"$(cat VERSION)\"" -DLURE_PERSONA='"generic"' \
	-DLURE_TLS='"mbedtls"' -isystem "$MBEDTLS/include" \
	-o "$B/shipbench" test/bench/shipbench.c $OBJS \
	-L"$MBEDTLS/lib" -lmbedtls -lmbedx509 -lmbedcrypto

uptime >&2
exec python3 test/bench/ship_bench.py --shipbench "$B/shipbench" "$@"
