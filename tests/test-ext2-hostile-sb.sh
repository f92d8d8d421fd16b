#!/usr/bin/env bash
# A hostile s_first_data_block (8, 64, 1000) on 1 KiB- and 4 KiB-block
# filesystems, with no superblock checksum, a stale one and a
# recomputed one.  libext2fs trusts the value and ext2fs_rw_bitmaps
# wrote past its bitmap.  virt-bmap must not crash, must name the bad
# value, and must map the files through the backup superblock where
# there is one (checked against debugfs reading that backup), or leave
# the volume unmapped where there is none.
# Then group descriptors that put a table outside its group (or the
# filesystem, with flex_bg): e2fsck's rule, the table ignored with a
# warning, the map still tiling the volume.
source ./functions.sh
set -x
requires debugfs -V
requires e2fsck -V
requires python3 --version

mkdir -p $tmp/src/d
for i in 1 2 3 4 5; do
    repeat "file $i" $((i * 7000)) > $tmp/src/d/f$i
done
echo hi > $tmp/src/small

# poke IMG VALUE [fix]: s_first_data_block (le32 at byte 1024 + 20) set
# to VALUE; with fix, the superblock's crc32c (its last 4 bytes)
# recomputed.
poke ()
{
    python3 - "$@" <<'PY'
import struct, sys
img, val, fix = sys.argv[1], int(sys.argv[2]), len(sys.argv) > 3
def crc32c(data):
    crc = 0xffffffff
    for b in data:
        crc ^= b
        for _ in range(8):
            crc = (crc >> 1) ^ (0x82F63B78 if crc & 1 else 0)
    return crc
with open(img, "r+b") as f:
    f.seek(1024 + 20)
    f.write(struct.pack("<I", val))
    if fix:
        f.seek(1024)
        sb = f.read(1024)
        f.seek(1024 + 1020)
        f.write(struct.pack("<I", crc32c(sb[:1020])))
PY
}

# BLOCKSIZE:SIZE:BACKUP (the backup superblock's block, or none: one
# group only).
for spec in 1024:16M:8193 4096:136M:32768 4096:16M:none; do
    IFS=: read bs size backup <<< "$spec"
    if [ $bs = 1024 ]; then should=1; else should=0; fi
    for csum in none stale fixed; do
        case $csum in
            none) opts="-O ^metadata_csum" ;;
            *) opts="-O metadata_csum" ;;
        esac
        rm -f $tmp/base.img
        $MKFS_EXT4 -b $bs $opts -d $tmp/src $tmp/base.img $size
        for v in 8 64 1000; do
            img=$tmp/disk.img
            cp $tmp/base.img $img
            case $csum in
                fixed) poke $img $v fix ;;
                *) poke $img $v ;;
            esac
            # e2fsck is the oracle of the checksum and of the value.
            e2fsck -fn $img > $tmp/fsck 2>&1 || :
            if [ $csum = stale ]; then
                grep -q 'Superblock checksum does not match' $tmp/fsck
            elif grep -q 'Superblock checksum does not match' $tmp/fsck; then
                fail "$spec $csum $v: the superblock checksum is wrong"
            fi
            # (dumpe2fs exits 1 here: the descriptors look bad.)
            dumpe2fs -h $img > $tmp/dump 2>&1 || :
            grep -q "^First block: *$v\$" $tmp/dump

            r=0
            virt-bmap -o $tmp/disk.bmap $img 2> $tmp/err || r=$?
            cat $tmp/err
            [ $r -eq 0 ] || fail "$spec $csum $v: virt-bmap exited $r"
            grep -q "virt-bmap: warning: /dev/sda: .*first_data_block = $v, should be $should" $tmp/err
            virt-bmap export $tmp/disk.bmap --format tsv > $tmp/map.tsv

            if [ $backup = none ]; then
                grep -q 'not a valid ext2/3/4 filesystem' $tmp/err
                # Nothing half-mapped: the disk and no object inside.
                [ "$(grep -vc '^#' $tmp/map.tsv)" -eq 1 ]
                grep -q "^0	0	$(stat -c %s $img)	v	" $tmp/map.tsv
                continue
            fi
            grep -q "using the backup superblock at block $backup" $tmp/err
            rm -rf $tmp/out
            mkdir $tmp/out
            debugfs -n -s $backup -b $bs -R "rdump / $tmp/out" $img
            cmp $tmp/out/d/f5 $tmp/src/d/f5
            python3 $srcdir/ext2-check-coverage $tmp/map.tsv
            python3 $srcdir/ext2-check-content $img $tmp/map.tsv /dev/sda $tmp/out
            [ "$(grep -c '	f	/dev/sda	' $tmp/map.tsv)" -ge 6 ]
        done
    done
done

# desc_case NAME MKFS-OPTIONS SET_BG-ARGS 'GROUP: ... LOCATION' WARNING
desc_case ()
{
    local img=$tmp/$1.img
    $MKFS_EXT4 $2 -d $tmp/src $img 16M
    debugfs -w -R "set_bg $3" $img
    # debugfs exits 0 even when a command fails: read the edit back.
    debugfs -c -R stats $img > $tmp/stats 2>&1
    grep -q "^ Group *$4" $tmp/stats
    r=0
    virt-bmap -o $tmp/$1.bmap $img 2> $tmp/err || r=$?
    cat $tmp/err
    [ $r -eq 0 ] || fail "$1: virt-bmap exited $r"
    grep -q "virt-bmap: warning: /dev/sda: $5" $tmp/err
    virt-bmap export $tmp/$1.bmap --format tsv > $tmp/$1.tsv
    python3 $srcdir/ext2-check-coverage $tmp/$1.tsv /dev/sda
}

# Group 1's block bitmap in group 0: group 1 is taken as all in use;
# the files (in group 0) are still mapped and equal the source.
desc_case nonflex "-b 1024 -O ^flex_bg" "1 block_bitmap 100" \
    " 1: block bitmap at 100," \
    "1 group descriptor(s) (the first: group 1) put the block bitmap outside the group: ignored"
python3 $srcdir/ext2-check-content $tmp/nonflex.img $tmp/nonflex.tsv /dev/sda $tmp/src
[ "$(grep -c '	f	/dev/sda	' $tmp/nonflex.tsv)" -ge 6 ]

# The only group's inode table past the end: no inode can be read.
desc_case flex "-b 4096" "0 inode_table 99999" \
    " 0: .*inode table at 99999\$" \
    "1 group descriptor(s) (the first: group 0) put the inode table outside the filesystem: ignored"
