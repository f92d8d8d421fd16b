#!/usr/bin/env bash
# Command-line basics: help, version, and clean failures that leave
# no output behind.
source ./functions.sh
set -x

virt-bmap --help | grep_q 'virt-bmap query'
virt-bmap --help | grep_q 'export'
virt-bmap --version | grep_q -E '^virt-bmap [0-9]+\.[0-9]+'
virt-bmap query --help | grep_q 'offset_in_object'
virt-bmap export --help | grep_q 'json'

expect_fail virt-bmap
expect_fail virt-bmap --no-such-option x.img
expect_fail virt-bmap --format vmdk -o "$tmp/x.bmap" /dev/null

# A missing image: a clear message, no map.
expect_fail virt-bmap -o "$tmp/missing.bmap" "$tmp/missing.img" 2>"$tmp/err"
grep -q 'missing.img: No such file or directory' "$tmp/err"
test ! -e "$tmp/missing.bmap"

# An unwritable output directory: fails, nothing left behind.
truncate -s 1M "$tmp/disk.img"
expect_fail virt-bmap -o "$tmp/nodir/x.bmap" "$tmp/disk.img" 2>"$tmp/err"
grep -q 'nodir' "$tmp/err"

# The output filesystem fills up while the map is written (by the
# writer thread): an error, no output, no temporary file left.
"$srcdir/make-sample-image" "$tmp/sample.img"
mkdir "$tmp/out"
(
    trap '' XFSZ
    ulimit -f 16
    expect_fail virt-bmap -o "$tmp/out/full.bmap" "$tmp/sample.img"
) 2>"$tmp/err"
grep -qi 'map store' "$tmp/err"
test -z "$(ls "$tmp/out")"

# Not a map: a clear error from query and export.
expect_fail virt-bmap query "$tmp/disk.img" 0 2>"$tmp/err"
grep -qi 'not a virt-bmap map\|not a database' "$tmp/err"
expect_fail virt-bmap export "$tmp/disk.img"

# A blank disk maps as one device object; the image is not modified.
sum=$(md5sum < "$tmp/disk.img")
virt-bmap -q -o "$tmp/disk.bmap" "$tmp/disk.img"
test "$(md5sum < "$tmp/disk.img")" = "$sum"
virt-bmap export "$tmp/disk.bmap" --format text > "$tmp/text"
grep -qx '1 0 100000 v /dev/sda' "$tmp/text"
ls "$tmp" | grep -v tmp | grep_q disk.bmap
test -z "$(ls "$tmp" | grep '\.tmp')"
