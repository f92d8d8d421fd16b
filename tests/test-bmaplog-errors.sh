#!/usr/bin/env bash
# bmaplog refuses a missing, corrupt or foreign map with a clear error.
source ./functions.sh
set -x

"$srcdir/make-sample-image" "$tmp/a.img"
virt-bmap -q -o "$tmp/a.bmap" "$tmp/a.img"
truncate -s 8M "$tmp/b.img"

bmaplog --help | grep_q -- '--trace'
expect_fail bmaplog "$tmp/a.img"
expect_fail bmaplog -m "$tmp/missing.bmap" "$tmp/a.img" --run true 2>"$tmp/err"
grep -q 'missing.bmap' "$tmp/err"
expect_fail bmaplog -m "$tmp/a.img" "$tmp/a.img" --run true 2>"$tmp/err"
grep -qi 'not a virt-bmap map\|not a database' "$tmp/err"
# The map belongs to another image.
expect_fail bmaplog -m "$tmp/a.bmap" "$tmp/b.img" --run true 2>"$tmp/err"
grep -q 'does not belong' "$tmp/err"
# Two disks for a one-disk map.
expect_fail bmaplog -m "$tmp/a.bmap" "$tmp/a.img" "$tmp/b.img" --run true 2>"$tmp/err"
grep -q 'maps 1 disk' "$tmp/err"
expect_fail bmaplog -m "$tmp/a.bmap" --trace-format xml "$tmp/a.img" --run true
