#!/usr/bin/env bash
# virt-bmap --hash on ext4 and ext2: every file's MD5, SHA-1 and
# SHA-256 against hashlib over icat (The Sleuth Kit), against the
# source files (sha256sum), against debugfs dump; a sparse file and a
# fallocated (unwritten) one hash as zeroes; an ext2 file whose blocks
# go back on the disk (hashed by the second pass); the same hashes
# from the image compressed with xz; the DFXML export against fiwalk's
# for the same image (byte runs and hashes per file), with names XML
# cannot carry; a too sparse file; a map built without --hash still
# reads.
source ./functions.sh
set -x
set -o pipefail
requires fls -V
requires fiwalk -V
requires debugfs -V
requires python3 --version
requires xz --version

src=$tmp/src
mkdir -p $src/dir/sub "$src/with space"
for n in 0 1 1023 1024 1025 4095 4096 4097 100000; do
    head -c $n /dev/urandom > $src/f$n
done
head -c 3000000 /dev/urandom > $src/dir/sub/big
head -c 5000 /dev/urandom > "$src/with space/name & <xml> 'quoted'"
echo ctl > "$src/$(printf 'ctl\001name')"
echo bad > "$src/$(printf 'bad\377utf8')"
echo nl > "$src/$(printf 'new\nline')"
# Sparse: a hole first, data, a hole, data, and a hole to the end.
truncate -s 5M $src/sparse
head -c 10000 /dev/urandom | dd of=$src/sparse bs=4096 seek=100 conv=notrunc
head -c 4096 /dev/urandom | dd of=$src/sparse bs=4096 seek=700 conv=notrunc
ln $src/dir/sub/big $src/dir/hardlink
# Past the 64 GiB of zeroes hashed at most: recorded as too sparse.
truncate -s 65G $src/huge-hole

img=$tmp/ext4.img
truncate -s 64M $img
$MKFS_EXT4 -b 4096 -d $src $img
# Allocated but unwritten: reads as 40 KiB of zeroes.
debugfs -w -R "write /dev/null unwritten" $img
debugfs -w -R "fallocate /unwritten 0 9" $img
debugfs -w -R "sif /unwritten size 40960" $img
debugfs -R "stat /unwritten" $img > $tmp/stat
grep -q '\[u\]' $tmp/stat

virt-bmap -v --hash md5,sha1,sha256 -o $tmp/ext4.bmap $img 2> $tmp/log
cat $tmp/log
test -z "$(grep warning: $tmp/log || :)"
test "$(sqlite3 $tmp/ext4.bmap "SELECT value FROM meta WHERE key = 'hashes'")" = md5,sha1,sha256

# Every file fls lists, against icat.
$srcdir/hash-check-files $img $tmp/ext4.bmap /dev/sda

# query --path prints the hashes; against the source files.
sha_of () # PATH-IN-IMAGE ALGO
{
    virt-bmap query $tmp/ext4.bmap --path "/dev/sda:$1" > $tmp/q
    awk -v a="$2" '$1 == "#" && $2 == a { print $3 }' $tmp/q
}
for f in f0 f1 f1023 f4096 f4097 f100000 dir/sub/big dir/hardlink sparse \
         "with space/name & <xml> 'quoted'"; do
    test "$(sha_of "/$f" sha256)" = "$(sha256sum < "$src/$f" | cut -d' ' -f1)"
    test "$(sha_of "/$f" md5)" = "$(md5sum < "$src/$f" | cut -d' ' -f1)"
done
# debugfs's own reading of two of them.
debugfs -R "dump /dir/sub/big $tmp/big.out" $img
test "$(sha_of /dir/sub/big sha1)" = "$(sha1sum < $tmp/big.out | cut -d' ' -f1)"
debugfs -R "dump /sparse $tmp/sparse.out" $img
cmp $tmp/sparse.out $src/sparse
# Holes and unwritten extents hash as zeroes.
test "$(sha_of /unwritten sha256)" = "$(head -c 40960 /dev/zero | sha256sum | cut -d' ' -f1)"
head -c $((5 * 1024 * 1024)) /dev/zero > $tmp/zeroes
test "$(sha_of /sparse sha256)" != "$(sha256sum < $tmp/zeroes | cut -d' ' -f1)"

test "$(sqlite3 $tmp/ext4.bmap "SELECT h.not_hashed FROM hashes h JOIN objects o ON o.id = h.object WHERE o.path = '/huge-hole'")" = 'too sparse'

# The same image compressed with xz (read at random, block by block):
# the same hashes.
xz -k -T1 --block-size=1MiB -c $img > $tmp/ext4.img.xz
virt-bmap -q --hash md5,sha1,sha256 -o $tmp/xz.bmap $tmp/ext4.img.xz
q="SELECT o.path, h.md5, h.sha1, h.sha256, h.not_hashed FROM hashes h JOIN objects o ON o.id = h.object ORDER BY o.path"
sqlite3 $tmp/ext4.bmap "$q" > $tmp/raw.hashes
sqlite3 $tmp/xz.bmap "$q" > $tmp/xz.hashes
test "$(wc -l < $tmp/raw.hashes)" -ge 16
diff -u $tmp/raw.hashes $tmp/xz.hashes

# DFXML: valid XML whatever the names, and the same files, byte runs
# and hashes as fiwalk's.
virt-bmap export $tmp/ext4.bmap --format dfxml -o $tmp/ours.xml
fiwalk -X $tmp/fiwalk.xml $img
$srcdir/hash-check-dfxml $tmp/ours.xml $tmp/fiwalk.xml --unhashed huge-hole
grep -F '<filename>ctl\x01name</filename>' $tmp/ours.xml
grep -F '<filename>bad\xFFutf8</filename>' $tmp/ours.xml
grep -F '<filename>new\x0Aline</filename>' $tmp/ours.xml
grep -F "<filename>with space/name &amp; &lt;xml&gt; &apos;quoted&apos;</filename>" $tmp/ours.xml
# Unwritten ranges are fill runs, as fiwalk writes them.
python3 - $tmp/ours.xml <<'PY'
import sys, xml.etree.ElementTree as ET
ns = '{http://www.forensicswiki.org/wiki/Category:Digital_Forensics_XML}'
for fo in ET.parse(sys.argv[1]).getroot().iter(ns + 'fileobject'):
    if fo.find(ns + 'filename').text == 'unwritten':
        runs = [r.attrib for r in fo.iter(ns + 'byte_run')]
        assert runs == [{'file_offset': '0', 'fill': '0', 'len': '40960'}], runs
        break
else:
    sys.exit('no unwritten file')
PY

# ext2, a file whose blocks go back on the disk: its block pointers
# swapped, so it reads its third block first.
mkdir $tmp/src2
head -c 12288 /dev/urandom > $tmp/src2/back
head -c 9000 /dev/urandom > $tmp/src2/fwd
img2=$tmp/ext2.img
truncate -s 8M $img2
mkfs.ext2 -q -F -b 4096 -d $tmp/src2 $img2
b0=$(debugfs -R "bmap /back 0" $img2)
b2=$(debugfs -R "bmap /back 2" $img2)
test "$b0" -lt "$b2"
debugfs -w -R "sif /back block[0] $b2" $img2
debugfs -w -R "sif /back block[2] $b0" $img2
virt-bmap -v --hash sha256 -o $tmp/ext2.bmap $img2 2> $tmp/log2
cat $tmp/log2
grep -q 'hashed 2 files (0 not hashed).* 1 files in file order afterwards' $tmp/log2
$srcdir/hash-check-files $img2 $tmp/ext2.bmap /dev/sda
# Only the asked algorithm.
test "$(sqlite3 $tmp/ext2.bmap "SELECT count(*) FROM hashes WHERE md5 IS NULL AND sha1 IS NULL AND length(sha256) = 64")" -eq 2

# A map built without --hash: no table, no hash lines, DFXML without
# digests.
virt-bmap -q -o $tmp/plain.bmap $img2
test -z "$(sqlite3 $tmp/plain.bmap "SELECT name FROM sqlite_schema WHERE name = 'hashes'")"
virt-bmap query $tmp/plain.bmap --path /dev/sda:/fwd > $tmp/q
test -s $tmp/q
if grep -q '^#' $tmp/q; then fail 'hash lines from a map without hashes'; fi
virt-bmap export $tmp/plain.bmap --format dfxml -o $tmp/plain.xml
python3 -c 'import sys, xml.etree.ElementTree as E; E.parse(sys.argv[1])' $tmp/plain.xml
if grep -q hashdigest $tmp/plain.xml; then fail 'hashdigest without hashes'; fi
grep -q '<filename>fwd</filename>' $tmp/plain.xml

expect_fail virt-bmap --hash md4 -o $tmp/x.bmap $img2
expect_fail virt-bmap --hash , -o $tmp/x.bmap $img2
