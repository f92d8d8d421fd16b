#!/usr/bin/env bash
# inspect-nbd on a multi-block xz image, on a single-block one (plain
# xz output, streamed through a window smaller than the image), and on
# an E01 made by ewfacquire (verified first) says what virt-inspector
# says on the raw image (the oracle): same OS fields, same
# applications.  The status line appears only on a terminal.
source ./functions.sh
set -x
requires virt-inspector --version
requires xz --version
requires sfdisk --version
requires script --version
requires ewfacquire -V
export LIBGUESTFS_BACKEND=direct

"$srcdir/make-debian-image" "$tmp/disk.img"
xz -T1 --block-size=1MiB -c "$tmp/disk.img" > "$tmp/disk.img.xz"
xz -T1 -c "$tmp/disk.img" > "$tmp/single.xz"
test "$(xz --robot -lv "$tmp/single.xz" | grep -c '^block')" -eq 1

virt-inspector --format=raw -a "$tmp/disk.img" > "$tmp/oracle.xml"
grep '<distro>debian</distro>' "$tmp/oracle.xml"
grep '<name>zlib1g</name>' "$tmp/oracle.xml"

inspect-nbd --xml "$tmp/disk.img.xz" > "$tmp/ours.xml" 2> "$tmp/err"
diff -u "$tmp/oracle.xml" "$tmp/ours.xml"
# stderr is no terminal: no status line.
if grep -q 'served' "$tmp/err"; then fail "status line on a file"; fi

# Single block, streamed (8 MiB window, 64 MiB image), with stderr on
# a terminal (script's pty): the status line shows the bytes served.
VIRT_BMAP_XZ_CACHE=8M script -qec \
    "inspect-nbd --xml '$tmp/single.xz' > '$tmp/single.xml'" \
    "$tmp/tty" < /dev/null
diff -u "$tmp/oracle.xml" "$tmp/single.xml"
grep 'warning: .*single.xz is a single xz block' "$tmp/tty"
grep 'inspect-nbd: [0-9.]* MiB served, 1 xz blocks decompressed' "$tmp/tty"

# An E01 of the same disk (segments of 1 MiB, as many as it takes:
# test-e01-map.sh checks split sets), checked against its stored MD5
# first.
ewfacquire -u -q -t "$tmp/disk" -S 1M -c deflate:fast "$tmp/disk.img" > "$tmp/acquire.log"
ls "$tmp"/disk.E*
inspect-nbd --verify --xml "$tmp/disk.E01" > "$tmp/e01.xml" 2> "$tmp/err"
cat "$tmp/err"
grep "inspect-nbd: .*disk.E01: MD5 $(md5sum < "$tmp/disk.img" | cut -d' ' -f1) verified" "$tmp/err"
diff -u "$tmp/oracle.xml" "$tmp/e01.xml"
