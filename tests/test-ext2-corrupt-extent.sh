#!/usr/bin/env bash
# Extents pointing where they must not: past the end of the filesystem
# (/past), and onto blocks that belong to someone else, the inode table
# (/steal).  The map is built with a warning naming each file; no byte
# gets two owners (coverage); the inode table stays the inode table; the
# blocks the two files really had are left as in use but unowned; the
# intact file is still mapped exactly.
source ./functions.sh
set -x
requires debugfs -V
requires python3 --version

mkdir -p $tmp/src
repeat past 9000 > $tmp/src/past
repeat steal 3000 > $tmp/src/steal
repeat good 5000 > $tmp/src/good
$MKFS_EXT4 -b 1024 -d $tmp/src $tmp/disk.img 4M
orphaned=$(debugfs -R "blocks /past" $tmp/disk.img; debugfs -R "blocks /steal" $tmp/disk.img)
itable=$(dumpe2fs $tmp/disk.img | sed -n 's/.*Inode table at \([0-9]*\)-.*/\1/p')
# i_block[3..5] is the first extent: logical, length|start_hi, start_lo.
debugfs -w -f - $tmp/disk.img <<CMDS
sif /past block[5] 999999
sif /steal block[5] $itable
CMDS
debugfs -R "ex /past" $tmp/disk.img | grep_q 999999
debugfs -R "ex /steal" $tmp/disk.img | grep_q " $itable - "

virt-bmap -o $tmp/disk.bmap $tmp/disk.img 2> $tmp/err
cat $tmp/err
grep -q 'virt-bmap: warning: /dev/sda: /past: .*outside the filesystem' $tmp/err
grep -q 'virt-bmap: warning: /dev/sda: /steal: .*already belong' $tmp/err
virt-bmap export $tmp/disk.bmap --format tsv > $tmp/map.tsv
python3 $srcdir/ext2-check-coverage $tmp/map.tsv
# Neither file got an extent; the inode table's first block is intact.
test -z "$(awk -F'\t' '$6 == "/past" || $6 == "/steal"' $tmp/map.tsv)"
virt-bmap query $tmp/disk.bmap $((itable * 1024)) | grep_q $'\tm\t/dev/sda\t<inode table>\t'
# The files' real blocks: in use, no owner, not free space.
for b in $orphaned; do
    virt-bmap query $tmp/disk.bmap $((b * 1024)) | grep_q $'\tm\t/dev/sda\t<unaccounted>\t'
done
mkdir $tmp/root
debugfs -R "rdump /good $tmp/root" $tmp/disk.img
awk -F'\t' '$6 == "/good"' $tmp/map.tsv > $tmp/good.tsv
python3 $srcdir/ext2-check-content $tmp/disk.img $tmp/good.tsv /dev/sda $tmp/root
