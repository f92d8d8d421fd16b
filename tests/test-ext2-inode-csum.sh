#!/usr/bin/env bash
# Inode checksums (metadata_csum): a clean filesystem gives no checksum
# warning; after two inodes are damaged (a timestamp byte, and the high
# half of the checksum itself), the warning counts exactly the inodes
# e2fsck -fn finds, and the files are still mapped with their content.
source ./functions.sh
set -x
requires debugfs -V
requires e2fsck -V
requires python3 --version

mkdir -p $tmp/src
repeat one 5000 > $tmp/src/one
repeat two 9000 > $tmp/src/two
repeat three 13000 > $tmp/src/three
$MKFS_EXT4 -b 4096 -O metadata_csum -I 256 -d $tmp/src $tmp/disk.img 8M

virt-bmap -o $tmp/disk.bmap $tmp/disk.img 2> $tmp/err
cat $tmp/err
# (A bare `! cmd` never stops a set -e script: say fail.)
grep -q 'checksum' $tmp/err && fail "checksum warnings on a clean image"
e2fsck -fn $tmp/disk.img > $tmp/fsck 2>&1
grep -q 'checksum does not match' $tmp/fsck && fail "e2fsck: bad checksums"

# Byte offset of inode PATH's record plus OFF.
inode_byte ()
{
    debugfs -R "imap $1" $tmp/disk.img |
        awk -v off=$2 '/located at block/ {
            sub(",", "", $4); print $4 * 4096 + strtonum($6) + off }'
}
flip ()
{
    local at=$1 b
    b=$(od -An -tu1 -j $at -N1 $tmp/disk.img)
    printf "\\x$(printf %02x $(( (b ^ 0x5a) & 0xff )))" |
        dd of=$tmp/disk.img bs=1 seek=$at conv=notrunc status=none
}
flip $(inode_byte /one 16)      # i_mtime
flip $(inode_byte /three 130)   # i_checksum_hi

e2fsck -fn $tmp/disk.img > $tmp/fsck 2>&1 || :
cat $tmp/fsck
bad=$(grep -c 'checksum does not match inode' $tmp/fsck)
test "$bad" -eq 2

virt-bmap -o $tmp/disk.bmap $tmp/disk.img 2> $tmp/err
cat $tmp/err
grep -q "virt-bmap: warning: /dev/sda: $bad inode(s) with bad checksums" $tmp/err
virt-bmap export $tmp/disk.bmap --format tsv > $tmp/map.tsv
python3 $srcdir/ext2-check-coverage $tmp/map.tsv
for f in /one /two /three; do
    awk -F'\t' -v f=$f '$6 == f' $tmp/map.tsv | grep_q .
done
python3 $srcdir/ext2-check-content $tmp/disk.img $tmp/map.tsv /dev/sda $tmp/src
