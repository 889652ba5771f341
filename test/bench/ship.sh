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

# lure's objects (TLS=mbedtls), then the driver linked with what the daemon
# links (the Makefile's LURE_OBJ but main.o, and its TLS library: the
# client-only mbedTLS for a persona without tls ports or SSH)
make B="$B" "$B/lure" >&2
OBJS=$(make -s B="$B" --eval \
	'shipbench-objs: ; @echo $(filter-out $(B)/src/main.o,$(LURE_OBJ))' \
	shipbench-objs)
LIBS=$(make -s B="$B" --eval \
	'shipbench-libs: ; @echo $(or $(TLS_LURE_LIBS),$(TLS_LIBS))' \
	shipbench-libs)
# shellcheck disable=SC2086
cc -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror -Wundef -Wshadow \
	-Wstrict-prototypes -Wno-unused-parameter -O2 -g \
	-Isrc -Iplatform -Itest -I"$B" -I"$B/include" \
	-DLURE_VERSION="\"$(cat VERSION)\"" -DLURE_PERSONA='"generic"' \
	-DLURE_TLS='"mbedtls"' \
	-o "$B/shipbench" test/bench/shipbench.c $OBJS $LIBS

uptime >&2
exec python3 test/bench/ship_bench.py --shipbench "$B/shipbench" "$@"
