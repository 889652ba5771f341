#!/bin/sh
# nmapdb.sh DIR: put the service database (nmap-service-probes) of Debian 13's
# nmap-common (7.95) into DIR, for `nmap --datadir DIR` with Debian 12's nmap
# 7.93 binary (its other data files are found in /usr/share/nmap as usual).
# Debian 12's own 7.93 database predates the match lines of current Hikvision
# firmware (and other devices); scanners in the wild run newer nmap. Private
# apt state under DIR: the system's sources and lists are not touched.
# Cached: does nothing when DIR/nmap-service-probes exists.
set -e
dir=${1:?usage: nmapdb.sh DIR}
mkdir -p "$dir" && dir=$(cd "$dir" && pwd)
[ -s "$dir/nmap-service-probes" ] && exit 0
a="$dir/.apt"
mkdir -p "$a/etc" "$a/state/lists/partial" "$a/cache/archives/partial" "$a/x"
: > "$a/etc/none.list"
cat > "$a/etc/trixie.sources" <<EOS
Types: deb
URIs: http://deb.debian.org/debian
Suites: trixie
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
EOS
o="-o Dir::Etc::SourceList=$a/etc/none.list -o Dir::Etc::SourceParts=$a/etc -o Dir::State=$a/state -o Dir::Cache=$a/cache -o Debug::NoLocking=1 -o APT::Sandbox::User=root"
apt-get $o update -qq >&2
(cd "$a" && apt-get $o download -qq nmap-common >&2)
dpkg -x "$a"/nmap-common_*.deb "$a/x"
cp "$a/x/usr/share/nmap/nmap-service-probes" "$dir/nmap-service-probes.tmp"
mv "$dir/nmap-service-probes.tmp" "$dir/nmap-service-probes"
echo "nmapdb: $(ls "$a"/nmap-common_*.deb | sed 's#.*/##') -> $dir/nmap-service-probes" >&2
rm -rf "$a"
