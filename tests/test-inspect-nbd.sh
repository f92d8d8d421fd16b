#!/usr/bin/env bash
# inspect-nbd on a multi-block xz image says what virt-inspector says
# on the raw image (the oracle): same OS fields, same applications.
source ./functions.sh
set -x
requires virt-inspector --version
requires xz --version
requires sfdisk --version
export LIBGUESTFS_BACKEND=direct

"$srcdir/make-debian-image" "$tmp/disk.img"
xz -T1 --block-size=1MiB -c "$tmp/disk.img" > "$tmp/disk.img.xz"

virt-inspector --format=raw -a "$tmp/disk.img" > "$tmp/oracle.xml"
grep '<distro>debian</distro>' "$tmp/oracle.xml"
grep '<name>zlib1g</name>' "$tmp/oracle.xml"

inspect-nbd --xml "$tmp/disk.img.xz" > "$tmp/ours.xml"
diff -u "$tmp/oracle.xml" "$tmp/ours.xml"
