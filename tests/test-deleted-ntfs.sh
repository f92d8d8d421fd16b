#!/usr/bin/env bash
# Deleted NTFS files: written with libntfs-3g, deleted (ntfs_delete
# leaves the MFT record's run list), then part of their clusters
# reused by a live file.  Checked by deleted-check against fls -d,
# istat, icat, ntfsundelete --scan and fiwalk's DFXML; the live file
# stays the owner of the reused clusters (query, the index,
# ntfscluster), and free space is what ntfsinfo counts.  bmaplog's log and trace of a read
# there name both.
source ./functions.sh
set -x
requires_ntfs
requires fls -V
requires fiwalk -V
requires ntfsundelete --version
requires nbdsh --version

img=$tmp/ntfs.img
make_ntfs $img 16M
repeat 'first deleted' 30000 > $tmp/a
repeat 'second deleted' 9000 > $tmp/b
repeat 'in a deleted directory' 5000 > $tmp/x
repeat 'fragments' 40000 > $tmp/frag
repeat 'the live file' 20000 > $tmp/c
echo small > $tmp/s
./ntfs-helper mkdir $img /dir
./ntfs-helper mkdir $img /old
# Every MFT record first: a new file would take a deleted file's.
for f in /keep.txt /old/x.txt /frag1 /frag2 /filler; do
    ./ntfs-helper cp $img $tmp/s $f
done
./ntfs-helper cp $img $tmp/a /dir/gone.txt
./ntfs-helper cp $img $tmp/b /top.txt
./ntfs-helper cp $img $tmp/x /old/x.txt
./ntfs-helper frag $img /frag1 /frag2 $tmp/frag 4096
# libntfs-3g allocates from the largest free run: fill the volume so
# that /dir/gone.txt's clusters are it once deleted, and /keep.txt,
# growing, reuses them.
free=$(ntfsinfo -m $img | awk '/Free Clusters:/ { print $3 }')
repeat filler $(((free - 2) * 4096)) > $tmp/filler
./ntfs-helper cp $img $tmp/filler /filler
./ntfs-helper rm $img /dir/gone.txt
./ntfs-helper cp $img $tmp/c /keep.txt
./ntfs-helper rm $img /top.txt
./ntfs-helper rm $img /old/x.txt
./ntfs-helper rm $img /old
./ntfs-helper rm $img /frag1

virt-bmap -o $tmp/ntfs.bmap $img 2> $tmp/warnings
cat $tmp/warnings
test ! -s $tmp/warnings
$srcdir/deleted-check $img $tmp/ntfs.bmap --ntfsundelete --fiwalk
sqlite3 $tmp/ntfs.bmap "SELECT path FROM objects WHERE flags & 8 ORDER BY path" > $tmp/deleted
cat $tmp/deleted
grep -qx '<deleted>/dir/gone.txt' $tmp/deleted
grep -qx '<deleted>/top.txt' $tmp/deleted
grep -qx '<deleted>/frag1' $tmp/deleted
grep -qx '<deleted>/<inode [0-9]*>/x.txt' $tmp/deleted
# The live files and the accounting are unchanged.
$srcdir/ntfs-check-map $img $tmp/ntfs.bmap /dev/sda
./test-index $tmp/ntfs.bmap

# A byte of /dir/gone.txt's first cluster: /keep.txt's now, per TSK.
start=$(sqlite3 $tmp/ntfs.bmap "SELECT e.start FROM extents e JOIN objects o ON o.id = e.object
                                WHERE o.path = '<deleted>/dir/gone.txt' AND e.offset = 0")
# (TSK's ifind -d names the deleted record; ntfscluster reads only
# records in use.)
ntfscluster -c $((start / 4096)) $img > $tmp/owner 2>&1
grep -qx 'Inode [0-9]* /keep.txt/$DATA' $tmp/owner
virt-bmap query $tmp/ntfs.bmap $((start + 100)) > $tmp/query
cat $tmp/query
# Outer objects, the live file, then the deleted one, then the summary.
awk -F'\t' 'NF > 1 { print $3, $5, $10 }' $tmp/query > $tmp/rows
printf '%s\n' 'v - -' "f /keep.txt -" "f <deleted>/dir/gone.txt former" | diff - $tmp/rows
grep -qx '# /keep.txt, formerly <deleted>/dir/gone.txt' $tmp/query
# Where nothing reused it: free space, formerly /top.txt.
start=$(sqlite3 $tmp/ntfs.bmap "SELECT e.start FROM extents e JOIN objects o ON o.id = e.object
                                WHERE o.path = '<deleted>/top.txt' AND e.offset = 0")
ntfscluster -c $((start / 4096)) $img > $tmp/owner 2>&1
grep -qx '\* no inode found' $tmp/owner
virt-bmap query $tmp/ntfs.bmap $start > $tmp/query
grep -qx '# <free space>, formerly <deleted>/top.txt' $tmp/query

# The former extents count nowhere: free space is what ntfsinfo
# counts as free clusters, deleted clusters included.
free=$(ntfsinfo -m $img | awk '/Free Clusters:/ { print $3 }')
virt-bmap export $tmp/ntfs.bmap --format tsv > $tmp/map.tsv
test "$(awk -F'\t' '$4 == "u" && $6 == "<free space>" { n += $3 - $2 } END { print n / 4096 }' $tmp/map.tsv)" -eq "$free"

# bmaplog: a read over /dir/gone.txt's clusters gives pieces of
# /keep.txt and of free space, each formerly /dir/gone.txt.
start=$(sqlite3 $tmp/ntfs.bmap "SELECT e.start FROM extents e JOIN objects o ON o.id = e.object
                                WHERE o.path = '<deleted>/dir/gone.txt' AND e.offset = 0")
bmaplog -m $tmp/ntfs.bmap $img -U - -o $tmp/log --trace $tmp/trace.tsv --trace-format tsv \
        --run "nbdsh -u \"\$uri\" -c 'h.pread(32768, $start)'"
cat $tmp/log $tmp/trace.tsv
awk -F'\t' '!/^#/ { print $5, $6, $9, $13 }' $tmp/trace.tsv > $tmp/pieces
printf '%s\n' "$start 20480 /keep.txt <deleted>/dir/gone.txt" \
       "$((start + 20480)) 12288 <free space> <deleted>/dir/gone.txt" | diff - $tmp/pieces
test "$(grep -c '  formerly <deleted>/dir/gone.txt$' $tmp/log)" -eq 2
bmaplog report $tmp/trace.tsv > $tmp/report
