#!/usr/bin/env bash
# Inline data (mkfs.ext4 -O inline_data): tiny files and directories
# live inside their inodes, in i_block and, past 60 bytes, in the
# system.data xattr in the inode's extra space.  Their extents are
# flagged inline and lie inside the inode per `debugfs imap`
# (ext2-check-fs); their bytes rebuild the files (ext2-check-content).
source ./functions.sh
set -x
requires debugfs -V
requires python3 --version

src=$tmp/src
mkdir -p $src/dir/sub
echo tiny > $src/tiny
repeat 0123456789 59 > $src/dir/i59
repeat 0123456789 100 > $src/dir/i100
repeat 0123456789 5000 > $src/dir/notinline
ln -s target $src/dir/fastlink
$MKFS_EXT4 -b 1024 -O inline_data -I 256 -d $src $tmp/disk.img 4M
# The oracle agrees the files are inline.
for f in /tiny /dir/i59 /dir/i100 /dir/sub; do
    debugfs -R "stat $f" $tmp/disk.img | grep_q 'Size of inline data'
done

virt-bmap -o $tmp/disk.bmap $tmp/disk.img
# The source tree is the content oracle: debugfs 1.47.0 rdump pads
# inline files to 60 bytes.
$srcdir/ext2-check-map --tree $src $tmp/disk.img $tmp/disk.bmap /dev/sda

# The 100-byte file: inline extents inside its inode, covering all of it.
virt-bmap query $tmp/disk.bmap --path /dev/sda:/dir/i100 > $tmp/i100
loc=$(debugfs -R "imap /dir/i100" $tmp/disk.img | sed -n 's/.*located at block \([0-9]*\), offset \(0x[0-9a-f]*\).*/\1 \2/p')
read blk off <<< "$loc"
first=$((blk * 1024 + off))
awk -F'\t' -v a=$first -v b=$((first + 256)) '
    $9 != "inline" || $2 < a || $3 > b { exit 1 }
    { n += $3 - $2 }
    END { if (n < 100) exit 1 }' $tmp/i100
