#!/usr/bin/env bash
# The disk limit, one for the builder and the in-memory index: 255
# disks map (and the index loads them all, checked against a scan of
# the map by test-index), 256 are refused with a clear message before
# anything is read, and no map is left.
source ./functions.sh
set -x
requires sfdisk --version

# One small partitioned disk, copied (sparse) 256 times.
truncate -s 1M "$tmp/one.img"
echo 'start=64, size=512, type=83' | sfdisk -q --no-reread "$tmp/one.img"
disks=()
for i in $(seq 0 255); do
    cp --sparse=always "$tmp/one.img" "$tmp/d$i.img"
    disks+=("$tmp/d$i.img")
done

expect_fail virt-bmap -q -o "$tmp/256.bmap" "${disks[@]}" 2> "$tmp/err"
cat "$tmp/err"
grep_q 'too many disks: 256 (a map holds at most 255)' "$tmp/err"
test ! -e "$tmp/256.bmap"
test -z "$(ls "$tmp" | grep -v '\.img$' | grep -v '^err$' || :)"

virt-bmap -q -o "$tmp/255.bmap" "${disks[@]:0:255}" 2> "$tmp/warnings"
test "$(sqlite3 "$tmp/255.bmap" 'SELECT count(*) FROM disks')" -eq 255
./test-index "$tmp/255.bmap"
# The last disk, /dev/sdiu as Linux names the 255th, has its partition
# where sfdisk put it.
start=$(sfdisk -d "$tmp/d254.img" | awk -F'[=,]' '/start=/ { print $2 + 0 }')
test "$start" -eq 64
virt-bmap query --disk 254 "$tmp/255.bmap" $((start * 512)) > "$tmp/hits"
cat "$tmp/hits"
grep_q -P "^$((start * 512))\t254\tp\t/dev/sdiu1\t" "$tmp/hits"
expect_fail virt-bmap query --disk 255 "$tmp/255.bmap" 0
