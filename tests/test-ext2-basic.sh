#!/usr/bin/env bash
# An ext4 tree built by mkfs.ext4 -d (4k blocks): files of assorted sizes,
# a directory big enough for several blocks, fast and slow symlinks, a
# hard link, an empty file, a fifo and an external xattr block; checked
# against debugfs/dumpe2fs, by content, by coverage, by the counts of
# what went in, and by a point query against icheck + ncheck.
source ./functions.sh
set -x
requires debugfs -V
requires python3 --version

src=$tmp/src
mkdir -p $src/etc/sub $src/usr/bin $src/usr/share/many
for n in 1 4095 4096 4097 100000; do
    repeat "file of $n bytes" $n > $src/etc/sub/f$n
done
repeat 'hello world' 50000 > $src/etc/big
echo hi > $src/etc/small
: > $src/empty
ln -s small $src/etc/fastlink
ln -s "$(printf '/a/rather/long/symlink/target%.0s' 1 2 3)" $src/etc/slowlink
ln $src/etc/big $src/usr/bin/hardlink
mkfifo $src/fifo
for i in $(seq 1 150); do echo $i > $src/usr/share/many/a-longish-file-name-$i; done
$MKFS_EXT4 -b 4096 -d $src $tmp/disk.img 16M
repeat xattr 2000 > $tmp/value
debugfs -w -R "ea_set -f $tmp/value /etc/big user.big" $tmp/disk.img
debugfs -R "stat /etc/big" $tmp/disk.img | grep_q 'File ACL: [1-9]'

virt-bmap -o $tmp/disk.bmap $tmp/disk.img
$srcdir/ext2-check-map $tmp/disk.img $tmp/disk.bmap /dev/sda

# What went in: the source's directories (+ lost+found) and inodes.
objects () { $srcdir/ext2-objects $tmp/disk.bmap /dev/sda | awk -v k=$1 '$1 == k' | wc -l; }
test "$(objects d)" -eq $(( $(find $src -type d | wc -l) + 1 ))
test "$(objects f)" -eq "$(find $src ! -type d -printf '%i\n' | sort -u | wc -l)"

# Both names of the hard link give the same extents, with the xattr block.
virt-bmap query $tmp/disk.bmap --path /dev/sda:/etc/big > $tmp/big1
virt-bmap query $tmp/disk.bmap --path /dev/sda:/usr/bin/hardlink > $tmp/big2
cmp $tmp/big1 $tmp/big2
grep -q xattr $tmp/big1

# A byte in the third block of /etc/big: owner per icheck + ncheck,
# file offset per bmap.
blk=$(debugfs -R "bmap /etc/big 2" $tmp/disk.img)
ino=$(debugfs -R "icheck $blk" $tmp/disk.img | awk 'NR == 2 { print $2 }')
debugfs -R "ncheck $ino" $tmp/disk.img | cut -f2 > $tmp/names
virt-bmap query $tmp/disk.bmap $((blk * 4096 + 123)) | awk -F'\t' '$3 == "f"' > $tmp/hit
test "$(wc -l < $tmp/hit)" -eq 1
grep -qxF "$(cut -f5 $tmp/hit)" $tmp/names
test "$(cut -f6 $tmp/hit)" -eq $ino
test "$(cut -f7 $tmp/hit)" -eq $((2 * 4096 + 123))
