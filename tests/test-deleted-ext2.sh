#!/usr/bin/env bash
# A deleted ext2 file (debugfs rm frees the inode and its blocks but, as
# ext2 does, leaves its block pointers) whose first blocks a new file
# reused: it is <deleted>/<inode 13> at its former blocks, as fls -d,
# istat and icat see it (deleted-check), and debugfs's icheck names the
# new file as the owner of a shared block, which query lists first.
source ./functions.sh
set -x
requires debugfs -V
requires fls -V
requires fiwalk -V

img=$tmp/ext2.img
mkdir $tmp/root
repeat 'first' 10000 > $tmp/root/a
repeat 'deleted, reused' 70000 > $tmp/root/gone
repeat 'kept' 3000 > $tmp/root/keep
repeat 'the new file' 20000 > $tmp/new
$MKFS_EXT4 -t ext2 -b 1024 -d $tmp/root $img 4M
# /new takes the lowest free inode (/a's, 12) and blocks (/a's, then
# the first ones of /gone).
printf '%s\n' 'rm /a' 'rm /gone' "write $tmp/new /new" > $tmp/cmds
debugfs -w -f $tmp/cmds $img > $tmp/out 2>&1
cat $tmp/out
test "$(debugfs -R 'ncheck 12' $img 2>/dev/null | awk 'NR == 2 { print $2 }')" = //new

virt-bmap -o $tmp/ext2.bmap $img 2> $tmp/warnings
cat $tmp/warnings
test ! -s $tmp/warnings
$srcdir/deleted-check $img $tmp/ext2.bmap --fiwalk
./test-index $tmp/ext2.bmap
sqlite3 $tmp/ext2.bmap "SELECT path FROM objects WHERE flags & 8" > $tmp/deleted
printf '%s\n' '<deleted>/<inode 13>' | diff - $tmp/deleted

# /gone's first block is /new's now, per debugfs.
start=$(sqlite3 $tmp/ext2.bmap "SELECT e.start FROM extents e JOIN objects o ON o.id = e.object
                                WHERE o.path = '<deleted>/<inode 13>' AND e.offset = 0")
debugfs -R "icheck $((start / 1024))" $img > $tmp/icheck 2>/dev/null
test "$(awk 'NR == 2 { print $2 }' $tmp/icheck)" = 12
virt-bmap query $tmp/ext2.bmap $((start + 5)) > $tmp/query
cat $tmp/query
awk -F'\t' 'NF > 1 { print $3, $5, $10 }' $tmp/query > $tmp/rows
printf '%s\n' 'v - -' "f /new -" "f <deleted>/<inode 13> former" | diff - $tmp/rows
grep -qx '# /new, formerly <deleted>/<inode 13>' $tmp/query
