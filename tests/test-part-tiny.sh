#!/usr/bin/env bash
# Images too small for a partition table or a filesystem (issue 19):
# a warning says nothing was found, and the map is the device alone,
# covering every byte (the oracle is the file's size).
source ./functions.sh
set -x
source "$srcdir/part-functions.sh"

img=$tmp/disk.img

for size in 1 511 512 1023; do
    rm -f $img
    truncate -s $size $img
    # An MBR signature does not make a table of a lone sector.
    if [ $size -ge 512 ]; then
        printf '\x55\xaa' | dd of=$img bs=1 seek=510 conv=notrunc status=none
    fi
    test "$(stat -c %s $img)" -eq $size
    map $img
    grep -q "no partition table or filesystem found" $tmp/warnings ||
        fail "$size bytes: no warning"
    test "$(wc -l < $tmp/warnings)" -eq 1
    # The warning is in the map too.
    test "$(sqlite3 $tmp/map.bmap "SELECT count(*) FROM warnings")" = 1
    grep -v '^#' $tmp/map.tsv > $tmp/rows
    printf '0\t0\t%d\tv\t/dev/sda\n' $size > $tmp/expected
    cut -f1-5 $tmp/rows | diff -u $tmp/expected -
done

# From 1 KiB on, no such warning for a blank disk (as before).
rm $img
truncate -s 1024 $img
map $img
test ! -s $tmp/warnings
