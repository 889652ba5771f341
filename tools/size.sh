#!/bin/sh
# size.sh BUILD_DIR: stripped size of the static binary and its biggest objects.
dir=$1
bin=$dir/lure
[ -f "$bin" ] || { echo "size: no $bin"; exit 1; }
file "$bin" | grep -q 'statically linked' || echo "size: warning: $bin is not static"
printf '%-28s %8s bytes (%s KiB)\n' "$bin" "$(stat -c %s "$bin")" "$(( $(stat -c %s "$bin") / 1024 ))"
echo "biggest objects (text+data):"
find "$dir" -name '*.o' -exec size {} + 2>/dev/null | awk 'NR > 1 { print $1 + $2, $6 }' | sort -rn | head -8 |
	while read -r n f; do printf '  %8s %s\n' "$n" "$f"; done
