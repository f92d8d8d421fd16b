#!/usr/bin/env bash
# virt-bmap --hash on NTFS: resident files whose data lies over the MFT
# record's update sequence (sizes 300 to 700), non-resident ones, a
# named stream, a sparse file, two fragmented files, compressed and
# encrypted files (recorded as not hashed).  Hashes against hashlib
# over icat (every file fls lists), against ntfscat and the sources;
# the DFXML export against fiwalk's.
source ./functions.sh
set -x
set -o pipefail
requires_ntfs
requires ntfscp --version
requires ntfscat --version
requires fiwalk -V

img=$tmp/ntfs.img
make_ntfs $img 32M
for n in 0 1 300 500 600 700 4095 4097 100000; do
    head -c $n /dev/urandom > $tmp/f$n
    ntfscp -f $img $tmp/f$n /f$n
done
./ntfs-helper mkdir $img /dir
./ntfs-helper cp $img $tmp/f100000 /dir/copy
./ntfs-helper cp $img $tmp/f4097 /dir/copy:alt
head -c 30000 /dev/urandom > $tmp/s
./ntfs-helper sparse $img /sparse $tmp/s 200000 1000000
head -c 200000 /dev/urandom > $tmp/fr
./ntfs-helper frag $img /fragA /fragB $tmp/fr 4096
./ntfs-helper cmkdir $img /comp
./ntfs-helper cp $img $tmp/f100000 /comp/big
./ntfs-helper cp $img $tmp/f700 /comp/small
./ntfs-helper cp $img $tmp/f100000 /secret
head -c 3000 /dev/urandom > $tmp/efs
./ntfs-helper encrypt $img /secret $tmp/efs

virt-bmap -v --hash md5,sha1,sha256 -o $tmp/ntfs.bmap $img 2> $tmp/log
cat $tmp/log
test -z "$(grep warning: $tmp/log || :)"

$srcdir/hash-check-files $img $tmp/ntfs.bmap /dev/sda

not_hashed ()
{
    sqlite3 $tmp/ntfs.bmap "SELECT h.not_hashed FROM hashes h JOIN objects o ON o.id = h.object WHERE o.path = '$1'"
}
test "$(not_hashed /comp/big)" = compressed
test "$(not_hashed /comp/small)" = compressed
test "$(not_hashed /secret)" = encrypted
test -z "$(not_hashed /f500)"
virt-bmap query $tmp/ntfs.bmap --path /dev/sda:/secret > $tmp/q
grep -qx '# not hashed: encrypted' $tmp/q
if grep -q '^# sha256' $tmp/q; then fail 'an encrypted file hashed'; fi

sha_of () # PATH ALGO
{
    virt-bmap query $tmp/ntfs.bmap --path "/dev/sda:$1" > $tmp/q
    awk -v a="$2" '$1 == "#" && $2 == a { print $3 }' $tmp/q
}
# Resident data over the update sequence: against the sources and
# ntfscat.
for n in 0 1 300 500 600 700 4095 4097 100000; do
    want=$(sha256sum < $tmp/f$n | cut -d' ' -f1)
    test "$(sha_of /f$n sha256)" = "$want"
    test "$(ntfscat -f $img /f$n | sha256sum | cut -d' ' -f1)" = "$want"
done
test "$(sha_of /dir/copy:alt md5)" = "$(md5sum < $tmp/f4097 | cut -d' ' -f1)"
test "$(sha_of /fragA sha1)" = "$(sha1sum < $tmp/fr | cut -d' ' -f1)"
test "$(sha_of /fragB sha1)" = "$(sha1sum < $tmp/fr | cut -d' ' -f1)"
{ head -c 200000 /dev/zero; cat $tmp/s; head -c $((1000000 - 230000)) /dev/zero; } > $tmp/sparse.want
test "$(sha_of /sparse sha256)" = "$(sha256sum < $tmp/sparse.want | cut -d' ' -f1)"

# A resident file whose data crosses a 512-byte stride: the last two
# bytes of the stride hold the update sequence number on disk, so the
# map places those two bytes of the file in the record's update
# sequence array: three extents or more, none over a stride's end.
sqlite3 -separator ' ' $tmp/ntfs.bmap "SELECT e.start, e.end FROM extents e JOIN objects o ON o.id = e.object WHERE o.path = '/f500' AND e.offset >= 0" > $tmp/ext
test $(wc -l < $tmp/ext) -ge 3
while read start end; do
    test $(( (start / 512) == ((end - 1) / 512) && (end - 1) % 512 < 510 )) -eq 1
done < $tmp/ext

virt-bmap export $tmp/ntfs.bmap --format dfxml -o $tmp/ours.xml
fiwalk -X $tmp/fiwalk.xml $img
$srcdir/hash-check-dfxml $tmp/ours.xml $tmp/fiwalk.xml --ntfs \
    --unhashed comp/big --unhashed comp/small --unhashed secret
