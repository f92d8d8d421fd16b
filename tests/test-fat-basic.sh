#!/usr/bin/env bash
# FAT12, FAT16 and FAT32 volumes made by mkfs.vfat and filled with
# mtools: long names, nested directories, empty files, sizes on and
# around cluster boundaries, deleted entries (mdel, mdeltree).  Each
# map is checked by fat-check-map (coverage, fsck.fat's layout, fls
# objects, istat sectors, content against the files written, free
# clusters); FAT16 with 4096-byte sectors too; the FAT32 one also
# inside an MBR partition.
source ./functions.sh
set -x
requires mkfs.vfat --help
requires mcopy --version
requires fls -V
requires python3 --version
export MTOOLS_SKIP_CHECK=1
# mtools converts names with the locale's character set.
export LC_ALL=C.UTF-8

# The files written, kept in $tmp/src: the content oracle.
src=$tmp/src
mkdir -p "$src/Documents and Settings/sub dir" $src/UPPER $src/lower
for n in 0 1 511 512 513 2048 4095 4096 4097 70000; do
    head -c $n /dev/urandom > $src/f$n
done
head -c 3000 /dev/urandom > "$src/Documents and Settings/a rather long file name.text"
head -c 9000 /dev/urandom > "$src/Documents and Settings/sub dir/Ünïcödé näme.bin"
echo upper > $src/UPPER/README.TXT
echo lower > $src/lower/readme.txt
for i in $(seq 1 40); do
    echo $i > "$src/lower/entry number $i with a long name"
done

# check TYPE SIZE MKFS-OPTIONS [NAME]: a volume, filled, some names
# deleted.
check ()
{
    local t=$1 img=$tmp/${4:-$1}.img
    set -- ${4:-$1} "$2" "$3"
    rm -f $img
    truncate -s $2 $img
    mkfs.vfat $3 -n VOLLABEL $img
    mcopy -s -i $img $src/* ::/
    # Deleted entries: written, then removed from the volume.
    echo gone > $tmp/gone.txt
    mcopy -i $img $tmp/gone.txt "::/deleted file with a long name.txt"
    mcopy -i $img $tmp/gone.txt ::/lower/DELETED.TXT
    mmd -i $img ::/deldir
    mcopy -i $img $src/f4097 ::/deldir/inside
    mdel -i $img "::/deleted file with a long name.txt" ::/lower/DELETED.TXT
    mdeltree -i $img ::/deldir
    fls -r $img > $tmp/fls
    grep -q '\* .*deleted file with a long name.txt' $tmp/fls

    virt-bmap -o $tmp/$1.bmap $img 2> $tmp/warnings
    cat $tmp/warnings
    test ! -s $tmp/warnings
    $srcdir/fat-check-map $img $tmp/$1.bmap /dev/sda $src
    test "$(sqlite3 $tmp/$1.bmap "SELECT fstype FROM objects WHERE kind = 'v'")" = $t
    # Deleted names are not live files but deleted ones, as TSK finds
    # them.
    test -z "$(sqlite3 $tmp/$1.bmap "SELECT path FROM objects WHERE flags & 8 = 0 AND (path LIKE '%eleted%' OR path LIKE '/deldir%')")"
    sqlite3 $tmp/$1.bmap "SELECT path FROM objects WHERE flags & 8" > $tmp/deleted
    grep -qx '<deleted>/deleted file with a long name.txt' $tmp/deleted
    $srcdir/deleted-check $img $tmp/$1.bmap
}

check fat12 4M "-F 12 -s 2"
check fat16 32M "-F 16 -s 4"
check fat32 64M "-F 32 -s 1"
check fat16 64M "-S 4096" fat16-4k

# FAT32's reserved sectors by name.
for m in '<boot sector>' '<FSInfo>' '<backup boot sector>' '<backup FSInfo>' \
      '<reserved sectors>' '<FAT 1>' '<FAT 2>'; do
    test "$(sqlite3 $tmp/fat32.bmap "SELECT count(*) FROM objects WHERE kind = 'm' AND path = '$m'")" -eq 1
done
# mkfs.vfat's backup boot sector is sector 6, its FSInfo sector 1.
virt-bmap query $tmp/fat32.bmap $((6 * 512 + 3)) | grep_q '<backup boot sector>'
virt-bmap query $tmp/fat32.bmap $((1 * 512)) | grep_q '<FSInfo>'

# The same FAT32 volume in an MBR partition at 1 MiB.
disk=$tmp/disk.img
truncate -s 70M $disk
echo 'start=2048, size=131072, type=c' | sfdisk -q $disk
dd if=$tmp/fat32.img of=$disk bs=1M seek=1 conv=notrunc status=none
virt-bmap -o $tmp/disk.bmap $disk 2> $tmp/warnings
cat $tmp/warnings
test ! -s $tmp/warnings
$srcdir/fat-check-map $disk $tmp/disk.bmap /dev/sda1 $src
test "$(sqlite3 $tmp/disk.bmap "SELECT fstype FROM objects WHERE device = '/dev/sda1' AND kind = 'p'")" = fat32
