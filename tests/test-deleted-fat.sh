#!/usr/bin/env bash
# A deleted FAT file whose first cluster a live file reused (mtools
# takes the first free cluster): the live file stays the owner (its
# sectors per TSK's istat; query lists it first, the deleted file last
# with '# OWNER, formerly PATH'), the deleted files are as fls -d,
# istat and icat see them (deleted-check), and the live map is as
# fat-check-map expects.
source ./functions.sh
set -x
requires mcopy --version
requires mkfs.vfat --help
requires fls -V
requires fiwalk -V
export MTOOLS_SKIP_CHECK=1

img=$tmp/fat.img
src=$tmp/src
mkdir -p $src/dir
repeat 'deleted, partly reused' 10000 > $tmp/gone
repeat 'deleted, not reused' 3000 > $tmp/top
repeat 'the live file' 5000 > $src/live.txt
truncate -s 8M $img
mkfs.vfat -F 12 -s 4 $img
mmd -i $img ::/dir
mcopy -i $img $tmp/gone "::/dir/gone file.txt"
mcopy -i $img $tmp/top ::/TOP.TXT
mdel -i $img "::/dir/gone file.txt"
mcopy -i $img $src/live.txt ::/live.txt
mdel -i $img ::/TOP.TXT

virt-bmap -o $tmp/fat.bmap $img 2> $tmp/warnings
cat $tmp/warnings
test ! -s $tmp/warnings
$srcdir/fat-check-map $img $tmp/fat.bmap /dev/sda $src
$srcdir/deleted-check $img $tmp/fat.bmap --fiwalk
./test-index $tmp/fat.bmap
sqlite3 $tmp/fat.bmap "SELECT path FROM objects WHERE flags & 8 ORDER BY path" > $tmp/deleted
printf '%s\n' '<deleted>/_OP.TXT' '<deleted>/dir/gone file.txt' | diff - $tmp/deleted

# The deleted file's first sector is one of /live.txt's, per istat.
start=$(sqlite3 $tmp/fat.bmap "SELECT e.start FROM extents e JOIN objects o ON o.id = e.object
                               WHERE o.path = '<deleted>/dir/gone file.txt' AND e.offset = 0")
fls -r -p $img > $tmp/fls
inode=$(awk -F'\t' '$2 == "live.txt" { sub(/^r\/r /, "", $1); sub(/:$/, "", $1); print $1 }' $tmp/fls)
istat $img $inode > $tmp/istat
sed -n '/^Sectors:/,$p' $tmp/istat | tr ' ' '\n' | grep_q -x $((start / 512))
virt-bmap query $tmp/fat.bmap $((start + 100)) > $tmp/query
cat $tmp/query
awk -F'\t' 'NF > 1 { print $3, $5, $10 }' $tmp/query > $tmp/rows
printf '%s\n' 'v - -' "f /live.txt -" "f <deleted>/dir/gone file.txt former" | diff - $tmp/rows
grep -qx '# /live.txt, formerly <deleted>/dir/gone file.txt' $tmp/query
