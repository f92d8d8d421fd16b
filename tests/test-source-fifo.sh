#!/usr/bin/env bash
# Only regular files and block devices are images (issue 19): a FIFO
# with no writer is refused at once, whatever the format asked for,
# instead of hanging in open(); so is a character device.  timeout
# turns a hang into a failure (exit 124).
source ./functions.sh
set -x

mkfifo "$tmp/fifo"
for format in "" raw xz qcow2; do
    r=0
    timeout 60 virt-bmap ${format:+--format $format} -o "$tmp/f.bmap" \
        "$tmp/fifo" 2>"$tmp/err" || r=$?
    cat "$tmp/err"
    test $r -ne 124 || fail "virt-bmap ${format:-(detect)} hung on a FIFO"
    test $r -eq 1 || fail "virt-bmap ${format:-(detect)}: exit $r"
    grep -q 'fifo: not a regular file or block device' "$tmp/err"
    test ! -e "$tmp/f.bmap"
done

expect_fail virt-bmap -o "$tmp/n.bmap" /dev/null 2>"$tmp/err"
grep -q '/dev/null: not a regular file or block device' "$tmp/err"
test ! -e "$tmp/n.bmap"
