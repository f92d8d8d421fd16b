#!/usr/bin/env bash
# An encrypted (EFS) file, flagged so through libntfs-3g by ntfs-helper:
# FILE_ATTR_ENCRYPTED, ATTR_IS_ENCRYPTED on its $DATA streams, and an
# $EFS logged utility stream.  ntfsinfo and The Sleuth Kit see it
# encrypted and ntfscat refuses to read it; the map flags every extent
# of its streams "encrypted" (ntfs-check-map checks their runs against
# ntfsinfo and skips their content, as ciphertext), the $EFS stream is
# an object "path:$EFS:$LOGGED_UTILITY_STREAM" checked with ntfscat.
# The bytes mapped are the bytes stored (here what the helper wrote),
# up to the file's size.
source ./functions.sh
set -x
requires_ntfs

img=$tmp/ntfs.img
make_ntfs $img 16M
head -c 50000 /dev/urandom > $tmp/data
head -c 20000 /dev/urandom > $tmp/ads
head -c 3000 /dev/urandom > $tmp/efs
./ntfs-helper mkdir $img /d
./ntfs-helper cp $img $tmp/data /d/secret
./ntfs-helper cp $img $tmp/ads /d/secret:ads
./ntfs-helper cp $img $tmp/data /plain
./ntfs-helper encrypt $img /d/secret $tmp/efs

# The oracles see it encrypted.
ntfsinfo -f -v -F /d/secret $img > $tmp/info
grep -q 'File attributes:.*ENCRYPTED' $tmp/info
istat $img $(ifind -n /d/secret $img) | grep_q '^Type: $DATA.*Encrypted'
# (ntfscat says so, but exits 0.)
ntfscat -f $img /d/secret > $tmp/cat 2> $tmp/err || :
grep -q 'Permission denied' $tmp/err
test ! -s $tmp/cat

virt-bmap -o $tmp/ntfs.bmap $img 2> $tmp/warnings
cat $tmp/warnings
test ! -s $tmp/warnings
$srcdir/ntfs-check-map $img $tmp/ntfs.bmap /dev/sda
virt-bmap export $tmp/ntfs.bmap --format tsv > $tmp/map.tsv

# Every extent of both streams is flagged (not the MFT record, at
# offset "-"), nothing else is.
awk -F'\t' '($6 == "/d/secret" || $6 == "/d/secret:ads") && $8 != "-" {
        n++; if ($9 !~ /(^|,)encrypted(,|$)/) bad++ }
    $6 != "/d/secret" && $6 != "/d/secret:ads" && $9 ~ /encrypted/ { bad++ }
    END { exit bad || n < 2 }' $tmp/map.tsv
grep -q '/d/secret:$EFS:$LOGGED_UTILITY_STREAM	' $tmp/map.tsv

# The stored bytes, read at the mapped offsets, are the helper's (the
# last cluster's tail past the size aside).
virt-bmap query $tmp/ntfs.bmap --path /dev/sda:/d/secret |
    awk -F'\t' '$8 != "-" && $9 !~ /past_eof/ {
        n = $3 - $2; if ($8 + n > $10) n = $10 - $8; print $2, n, $8 }' > $tmp/extents
test -s $tmp/extents
while read -r start len off; do
    cmp <(dd if=$img bs=1M iflag=skip_bytes,count_bytes skip=$start count=$len status=none) \
        <(dd if=$tmp/data bs=1M iflag=skip_bytes,count_bytes skip=$off count=$len status=none)
done < $tmp/extents
