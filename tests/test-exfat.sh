#!/usr/bin/env bash
# An exFAT volume made by mkfs.exfat and written by exfat-writer (no
# mount; fsck.exfat -n must find it clean): long and Unicode names,
# nested directories, empty and cluster-sized files, deleted files, and
# a file written into the holes others left (fragmented, with a FAT
# chain).  Checked by fat-check-map (coverage, dump.exfat's layout and
# free clusters, fls objects, istat sectors, content against the files
# written); the allocation bitmap and up-case table are metadata.
source ./functions.sh
set -x
requires which mkfs.exfat
requires which dump.exfat
requires which fsck.exfat
requires fls -V
requires python3 --version
export LC_ALL=C.UTF-8

img=$tmp/exfat.img
src=$tmp/src
mkdir -p "$src/Some Directory/nested deeper" $src/holes
for n in 0 1 4095 4096 4097 100000; do
    head -c $n /dev/urandom > $src/f$n
done
head -c 5000 /dev/urandom > "$src/Some Directory/a long name with spaces, longer than fifteen characters.data"
head -c 7000 /dev/urandom > "$src/Some Directory/nested deeper/Ünïcödé ☃.bin"
for i in $(seq 1 24); do
    head -c 8192 /dev/urandom > $tmp/hole$i
done
head -c 100000 /dev/urandom > $tmp/frag

truncate -s 16M $img
mkfs.exfat -c 4096 $img
cmds=(mkdir:/holes "mkdir:/Some Directory" "mkdir:/Some Directory/nested deeper")
for n in 0 1 4095 4096 4097 100000; do cmds+=(put:/f$n:$src/f$n); done
for f in "Some Directory/a long name with spaces, longer than fifteen characters.data" \
         "Some Directory/nested deeper/Ünïcödé ☃.bin"; do
    cmds+=("put:/$f:$src/$f")
done
for i in $(seq 1 24); do cmds+=(put:/holes/hole$i:$tmp/hole$i); done
for i in $(seq 1 2 24); do cmds+=(rm:/holes/hole$i); done
cmds+=(put:/holes/fragmented:$tmp/frag put:/deleted-file-with-a-long-name:$tmp/frag
       rm:/deleted-file-with-a-long-name)
$srcdir/exfat-writer $img "${cmds[@]}"
fsck.exfat -n $img
for i in $(seq 2 2 24); do cp $tmp/hole$i $src/holes/; done
cp $tmp/frag $src/holes/fragmented

fls -r $img > $tmp/fls
grep -q '\* .*deleted-file-with-a-long-name' $tmp/fls
virt-bmap -o $tmp/exfat.bmap $img 2> $tmp/warnings
cat $tmp/warnings
test ! -s $tmp/warnings
$srcdir/fat-check-map $img $tmp/exfat.bmap /dev/sda $src
test "$(sqlite3 $tmp/exfat.bmap "SELECT fstype FROM objects WHERE kind = 'v'")" = exfat
for m in '<boot sector>' '<backup boot sector>' '<FAT 1>' '<allocation bitmap>' \
      '<up-case table>'; do
    test "$(sqlite3 $tmp/exfat.bmap "SELECT count(*) FROM objects WHERE kind = 'm' AND path = '$m'")" -eq 1
done
test -z "$(sqlite3 $tmp/exfat.bmap "SELECT path FROM objects WHERE flags & 8 = 0 AND (path LIKE '%deleted%' OR path LIKE '/\$%')")"
# The deleted file (and the deleted holes) as TSK finds them.
sqlite3 $tmp/exfat.bmap "SELECT path FROM objects WHERE flags & 8" > $tmp/deleted
grep -qx '<deleted>/deleted-file-with-a-long-name' $tmp/deleted
$srcdir/deleted-check $img $tmp/exfat.bmap
# The file written into the holes is in several pieces.
test "$(sqlite3 $tmp/exfat.bmap "SELECT count(*) FROM extents e JOIN objects o ON e.object = o.id WHERE o.path = '/holes/fragmented'")" -gt 2
