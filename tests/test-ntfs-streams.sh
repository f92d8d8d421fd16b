#!/usr/bin/env bash
# NTFS streams written through libntfs-3g (ntfs-helper): named streams
# (resident and not) as "path:stream" objects, two files written in
# alternate pieces so both are fragmented, a sparse file, a compressed
# file (created in a directory flagged compressed).  Checked by
# ntfs-check-map (coverage, fls, ntfsinfo runlists, content with
# ntfscat), TSK's ifind -d for a fragment, and the holes unmapped.
source ./functions.sh
set -x
requires_ntfs

img=$tmp/ntfs.img
make_ntfs $img 16M
./ntfs-helper mkdir $img /d
repeat abc 30000 > $tmp/data
./ntfs-helper cp $img $tmp/data /d/file
echo small stream > $tmp/s1
./ntfs-helper cp $img $tmp/s1 /d/file:small
repeat 'big stream' 20000 > $tmp/s2
./ntfs-helper cp $img $tmp/s2 /d/file:big
./ntfs-helper cp $img $tmp/s2 /d:dirstream
head -c 200000 /dev/urandom > $tmp/rand
./ntfs-helper frag $img /frag1 /frag2 $tmp/rand 4096
./ntfs-helper sparse $img /sparse $tmp/data 1000000 3000000
./ntfs-helper cmkdir $img /c
{ repeat compressible 300000; head -c 50000 /dev/urandom; } > $tmp/cdata
./ntfs-helper cp $img $tmp/cdata /c/file
ntfsinfo -f -v -F /c/file $img | grep_q 'Compressed size'

virt-bmap -o $tmp/ntfs.bmap $img 2> $tmp/warnings
cat $tmp/warnings
test ! -s $tmp/warnings
$srcdir/ntfs-check-map $img $tmp/ntfs.bmap /dev/sda
virt-bmap export $tmp/ntfs.bmap --format tsv > $tmp/map.tsv

# The streams are objects of their own, on the file's MFT record.
ino=$(ifind -n /d/file $img)
for s in /d/file:small /d/file:big /d:dirstream; do
    virt-bmap query $tmp/ntfs.bmap --path /dev/sda:$s > $tmp/s
    test -s $tmp/s
    test "$(cut -f7 $tmp/s | sort -u)" -eq "$(ifind -n ${s%:*} $img)"
done
# The small one is resident: inline, inside the MFT record.
virt-bmap query $tmp/ntfs.bmap --path /dev/sda:/d/file:small | grep_q inline

# Fragmented: one extent per run (ntfsinfo agrees: ntfs-check-map), and
# a byte of the 20th cluster belongs to frag2 per ifind -d.
test "$(awk -F'\t' '$6 == "/frag2"' $tmp/map.tsv | wc -l)" -gt 20
off=$(virt-bmap query $tmp/ntfs.bmap --path /dev/sda:/frag2 | awk -F'\t' '$8 == 19 * 4096 { print $2 }')
test -n "$off"
test "$(ifind -d $((off / 4096)) $img | cut -d- -f1)" -eq "$(ifind -n /frag2 $img)"
virt-bmap query $tmp/ntfs.bmap $((off + 100)) | awk -F'\t' '$3 == "f" { print $5, $7 }' > $tmp/hit
test "$(cat $tmp/hit)" = "/frag2 $((19 * 4096 + 100))"

# Sparse: 30000 bytes at 1000000 in a 3000000-byte file; nothing mapped
# in the holes (TSK's istat shows them as 0 clusters).
awk -F'\t' '$6 == "/sparse" && $8 != "-" && $9 !~ /unwritten|past_eof/ {
    if ($8 < 999424 || $8 + $3 - $2 > 1032192) bad++; n += $3 - $2 }
    END { exit bad || n < 30000 }' $tmp/map.tsv
istat $img $(ifind -n /sparse $img) | grep_q '^0 0 0 0'

# Compressed: every mapped data cluster flagged (ntfs-check-map checked
# them against ntfsinfo's runs), fewer clusters than the size needs.
awk -F'\t' '$6 == "/c/file" && $8 != "-" { n += $3 - $2; if ($9 != "compressed") bad++ }
    END { exit bad || n == 0 || n >= 350000 }' $tmp/map.tsv
