#!/usr/bin/env bash
# One embedded OpenSearch 2.19 node for lure's tests (Maven Central jars, no Docker, no tarball);
# ES_FLAVOR=es7: an Elasticsearch 7.17 node instead (test/es/es7/, no x-pack: no data streams).
#
#   es.sh up     [port] [key=value ...]  start a node (if not already up), print its URL as the last line
#   es.sh down   [port]                  SIGTERM it (data kept), SIGKILL after 30 s
#   es.sh status [port]                  print "up URL pid N" (exit 0) or "down" (exit 3)
#   es.sh build                          install java/maven if missing, build the launcher (cached)
#   es.sh clean  [port]                  down, then delete the node's data
#
# port defaults to $ES_PORT or 9250 (es7: 9270). The node binds 127.0.0.1 only. Its home (config, data, logs)
# is $ES_NODE_DIR or build/es/node-<port>/ (es7: build/es7/node-<port>/), with node.log (stdout+stderr), pid
# and settings in it.
# key=value pairs are OpenSearch node settings, e.g. thread_pool.write.queue_size=1 http.max_content_length=2kb.
# Environment: ES_FLAVOR (opensearch | es7), ES_PORT, ES_NODE_DIR, ES_BUILD_DIR (build/es, es7: build/es7),
# ES_TIMEOUT (120 s), ES_LOG_LEVEL (info),
# ES_JAVA_OPTS (-Xms256m -Xmx512m -XX:TieredStopAtLevel=1).
# Exit 4: java/javac/mvn missing and could not be installed (apt-get install default-jdk-headless maven).
set -euo pipefail

ES_SRC=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ES_ROOT=$(cd "$ES_SRC/../.." && pwd)
# flavour: the Maven project (ES_SRC), default build dir and port, launcher class
case ${ES_FLAVOR:-opensearch} in
opensearch)
	ES_BUILD=${ES_BUILD_DIR:-$ES_ROOT/build/es}
	ES_DEFAULT_PORT=9250
	ES_MAIN=lure.testnode.Main
	;;
es7)
	ES_OS_SRC=$ES_SRC/src # the OpenSearch launcher, turned into the 7.17 one
	ES_SRC=$ES_SRC/es7
	ES_BUILD=${ES_BUILD_DIR:-$ES_ROOT/build/es7}
	ES_DEFAULT_PORT=9270
	ES_MAIN=lure.testnode7.Main
	;;
*)
	printf 'es.sh: unknown ES_FLAVOR=%s (opensearch or es7)\n' "$ES_FLAVOR" >&2
	exit 2
	;;
esac
ES_CP_FILE=$ES_BUILD/classpath.txt
ES_CLASSES=$ES_BUILD/target/classes
ES_TIMEOUT=${ES_TIMEOUT:-120}

say() { printf 'es.sh: %s\n' "$*" >&2; }
die() { say "$*"; exit 1; }

ensure_tools() {
	if command -v java >/dev/null && command -v javac >/dev/null && command -v mvn >/dev/null; then
		return
	fi
	say "java/javac/mvn missing: apt-get install -y default-jdk-headless maven"
	if ! command -v apt-get >/dev/null; then
		say "no apt-get: install a JDK (11+) and Maven yourself"
		exit 4
	fi
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq >&2 || true
	if ! apt-get install -y -qq default-jdk-headless maven >&2; then
		say "apt-get install default-jdk-headless maven failed"
		exit 4
	fi
}

# Build when the classpath file or classes are missing or older than the pom / sources.
build() {
	ensure_tools
	mkdir -p "$ES_BUILD"
	exec 9>"$ES_BUILD/.build.lock"
	flock 9
	local stamp=$ES_BUILD/.built
	local srcs=$ES_SRC/src
	[ -n "${ES_OS_SRC:-}" ] && srcs=$ES_OS_SRC
	if [ -f "$stamp" ] && [ -f "$ES_CP_FILE" ] && [ -d "$ES_CLASSES" ] &&
		[ -z "$(find "$ES_SRC/pom.xml" "$srcs" -newer "$stamp" -print -quit)" ]; then
		exec 9>&-
		return
	fi
	say "building the test node (mvn, cached in ~/.m2 and $ES_BUILD) ..."
	local gen=()
	if [ -n "${ES_OS_SRC:-}" ]; then
		# Elasticsearch 7.17 has the same classes under org.elasticsearch;
		# analysis-common is not on Maven Central for 7.x (lure needs none)
		local out=$ES_BUILD/src/main/java/lure/testnode7
		mkdir -p "$out"
		sed -e 's/^package lure\.testnode;/package lure.testnode7;/' \
			-e 's/org\.opensearch\./org.elasticsearch./g' \
			-e '/CommonAnalysisPlugin/d' \
			-e 's/opensearch\.networkaddress/es.networkaddress/' \
			-e 's/lure\.testnode\.Main/lure.testnode7.Main/' \
			-e 's/"lure-testnode"/"lure-testnode7"/' \
			-e 's/Starts one OpenSearch node/Starts one Elasticsearch 7.17 node/' \
			"$ES_OS_SRC/main/java/lure/testnode/Main.java" >"$out/Main.java"
		gen=(-Des.gen.src="$ES_BUILD/src/main/java")
	fi
	if ! mvn -B -q -f "$ES_SRC/pom.xml" package dependency:build-classpath \
		-Des.build.dir="$ES_BUILD/target" -Dmdep.outputFile="$ES_CP_FILE" "${gen[@]}" \
		>"$ES_BUILD/mvn.log" 2>&1; then
		tail -40 "$ES_BUILD/mvn.log" >&2
		die "mvn failed (full log: $ES_BUILD/mvn.log)"
	fi
	geoip_unpack
	touch "$stamp"
	exec 9>&-
}

# The GeoLite2 databases jar (OpenSearch only): its .mmdb files into $ES_BUILD/geoip, the jar off the classpath.
geoip_unpack() {
	local jar
	jar=$(tr ':' '\n' <"$ES_CP_FILE" | grep '/geolite2-databases-[^/]*\.jar$' || true)
	[ -n "$jar" ] || return 0
	rm -rf "$ES_BUILD/geoip"
	mkdir -p "$ES_BUILD/geoip"
	(cd "$ES_BUILD/geoip" && jar xf "$jar" GeoLite2-ASN.mmdb GeoLite2-City.mmdb GeoLite2-Country.mmdb)
	tr ':' '\n' <"$ES_CP_FILE" | grep -v '/geolite2-databases-' | paste -sd: >"$ES_CP_FILE.new"
	mv -f "$ES_CP_FILE.new" "$ES_CP_FILE"
}

node_dir() {
	local d=${ES_NODE_DIR:-$ES_BUILD/node-$1}
	case $d in /*) ;; *) d=$PWD/$d ;; esac
	echo "$d"
}

# node_pid PORT DIR: pid of our node for that dir, or nothing
node_pid() {
	local d=$2 pid
	[ -f "$d/pid" ] || return 0
	pid=$(cat "$d/pid" 2>/dev/null || true)
	[ -n "$pid" ] && [ -r "/proc/$pid/cmdline" ] || return 0
	if tr '\0' ' ' <"/proc/$pid/cmdline" | grep -qF "$ES_MAIN $d $1"; then
		echo "$pid"
	fi
}

port_busy() {
	# true when something accepts connections on 127.0.0.1:$1
	(exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

java_opts() {
	# C1 only: starts in about half the time with less CPU and RSS; throughput is not what tests need
	local major opts=${ES_JAVA_OPTS:--Xms256m -Xmx512m -XX:TieredStopAtLevel=1}
	major=$(java -XshowSettings:properties -version 2>&1 | sed -n 's/^ *java.specification.version = //p')
	major=${major#1.}
	# what the OpenSearch distribution's jvm.options sets
	if [ "${major:-17}" -lt 23 ]; then
		opts="$opts -Djava.locale.providers=SPI,COMPAT"
	else
		opts="$opts -Djava.locale.providers=SPI,CLDR"
	fi
	[ ! -f "$ES_BUILD/geoip/GeoLite2-City.mmdb" ] || opts="$opts -Dlure.es.geoip=$ES_BUILD/geoip"
	echo "$opts -Dfile.encoding=UTF-8 -Djava.awt.headless=true -Djna.nosys=true" \
		"-Dlure.es.loglevel=${ES_LOG_LEVEL:-info}"
}

cmd_up() {
	local port=${1:-${ES_PORT:-$ES_DEFAULT_PORT}}
	shift || true
	case $port in *[!0-9]* | '') die "bad port: $port" ;; esac
	local d pid
	d=$(node_dir "$port")
	mkdir -p "$d"
	# one `up` at a time per node (the node itself must not inherit the lock: 8>&- below)
	exec 8>"$d/.lock"
	flock 8
	pid=$(node_pid "$port" "$d")
	if [ -n "$pid" ]; then
		if [ "$(cat "$d/settings" 2>/dev/null)" != "$*" ]; then
			say "warning: node on $port already up (pid $pid) with settings [$(cat "$d/settings" 2>/dev/null)], not [$*]"
		fi
		wait_ready "$port" "$pid" "$d"
		return
	fi
	build
	if port_busy "$port"; then
		die "127.0.0.1:$port is in use by something else"
	fi
	mkdir -p "$d/tmp"
	printf '%s' "$*" >"$d/settings"
	[ ! -f "$d/node.log" ] || mv -f "$d/node.log" "$d/node.log.1"
	# shellcheck disable=SC2046
	setsid java $(java_opts) -Djava.io.tmpdir="$d/tmp" \
		-cp "$ES_CLASSES:$(cat "$ES_CP_FILE")" "$ES_MAIN" "$d" "$port" "$@" \
		</dev/null >>"$d/node.log" 2>&1 8>&- &
	pid=$!
	echo "$pid" >"$d/pid"
	say "started pid $pid, log $d/node.log"
	wait_ready "$port" "$pid" "$d"
}

wait_ready() {
	local port=$1 pid=$2 d=$3 t=0 line
	while [ "$t" -lt $((ES_TIMEOUT * 5)) ]; do
		line=$(grep -m1 '^READY ' "$d/node.log" 2>/dev/null || true)
		if [ -n "$line" ]; then
			echo "${line#READY }"
			return 0
		fi
		if ! kill -0 "$pid" 2>/dev/null; then
			tail -30 "$d/node.log" >&2
			rm -f "$d/pid"
			die "node on $port died during start-up (log: $d/node.log)"
		fi
		sleep 0.2
		t=$((t + 1))
	done
	tail -30 "$d/node.log" >&2
	die "node on $port not ready after ${ES_TIMEOUT}s (pid $pid still running; es.sh down $port)"
}

cmd_down() {
	local port=${1:-${ES_PORT:-$ES_DEFAULT_PORT}} d pid t=0
	d=$(node_dir "$port")
	pid=$(node_pid "$port" "$d")
	if [ -z "$pid" ]; then
		rm -f "$d/pid"
		say "no node on $port"
		return 0
	fi
	kill -TERM "$pid" 2>/dev/null || true
	while kill -0 "$pid" 2>/dev/null && [ "$t" -lt 150 ]; do
		sleep 0.2
		t=$((t + 1))
	done
	if kill -0 "$pid" 2>/dev/null; then
		say "pid $pid ignored SIGTERM for 30 s: SIGKILL"
		kill -KILL "$pid" 2>/dev/null || true
	fi
	rm -f "$d/pid"
	say "node on $port stopped"
}

cmd_status() {
	local port=${1:-${ES_PORT:-$ES_DEFAULT_PORT}} d pid line
	d=$(node_dir "$port")
	pid=$(node_pid "$port" "$d")
	line=$(grep -m1 '^READY ' "$d/node.log" 2>/dev/null || true)
	if [ -n "$pid" ] && [ -n "$line" ]; then
		echo "up ${line#READY } pid $pid"
	elif [ -n "$pid" ]; then
		echo "starting pid $pid"
	else
		echo "down"
		return 3
	fi
}

cmd_clean() {
	local port=${1:-${ES_PORT:-$ES_DEFAULT_PORT}}
	cmd_down "$port"
	rm -rf "$(node_dir "$port")"
}

case ${1:-} in
up) shift; cmd_up "$@" ;;
down) shift; cmd_down "$@" ;;
status) shift; cmd_status "$@" ;;
build) build ;;
clean) shift; cmd_clean "$@" ;;
*) sed -n '2,/^set -eu/p' "$0" | sed '$d' >&2; exit 2 ;;
esac
