#!/usr/bin/env bash
# The image is cut in half: the filesystem claims blocks the image does
# not have.  The map is built with a warning, covers exactly the image,
# and the files that lie wholly inside the first half are still mapped
# exactly (their content extracted before the cut is the oracle).
source ./functions.sh
set -x
requires debugfs -V
requires python3 --version

mkdir -p $tmp/src/d
for i in 1 2 3 4 5 6; do repeat $i 300000 > $tmp/src/d/f$i; done
$MKFS_EXT4 -b 1024 -d $tmp/src $tmp/disk.img 4M
inside=
for i in 1 2 3 4 5 6; do
    last=$(debugfs -R "blocks /d/f$i" $tmp/disk.img | tr ' ' '\n' | sort -n | tail -1)
    if [ $(( (last + 1) * 1024 )) -le $((2 * 1024 * 1024)) ]; then inside="$inside /d/f$i"; fi
done
test -n "$inside"
test "$inside" != " /d/f1 /d/f2 /d/f3 /d/f4 /d/f5 /d/f6"
truncate -s 2M $tmp/disk.img

virt-bmap -o $tmp/disk.bmap $tmp/disk.img 2> $tmp/err
cat $tmp/err
grep -q 'virt-bmap: warning: /dev/sda: .*truncated' $tmp/err
virt-bmap export $tmp/disk.bmap --format tsv > $tmp/map.tsv
python3 $srcdir/ext2-check-coverage $tmp/map.tsv
test "$(awk -F'\t' '$4 == "v" { print $3 }' $tmp/map.tsv)" -eq $((2 * 1024 * 1024))
awk -F'\t' -v files="$inside" 'index(files " ", " " $6 " ")' $tmp/map.tsv > $tmp/inside.tsv
python3 $srcdir/ext2-check-content $tmp/disk.img $tmp/inside.tsv /dev/sda $tmp/src
