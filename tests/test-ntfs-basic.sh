#!/usr/bin/env bash
# An NTFS volume (4k clusters) built by mkntfs and filled with ntfscp and
# ntfs-helper: files of assorted sizes (empty, resident, cluster
# boundaries), nested directories, one big enough for an $I30 index
# allocation, a hard link.  Checked by ntfs-check-map (coverage, fls,
# ntfsinfo runlists, ntfscat content), free space against ntfsinfo -m,
# system files present, and a point query against ifind -d.
source ./functions.sh
set -x
requires_ntfs
requires ntfscp --version

img=$tmp/ntfs.img
make_ntfs $img 24M
for n in 0 1 700 4095 4096 4097 100000; do
    repeat "file of $n bytes" $n > $tmp/f$n
    ntfscp -f $img $tmp/f$n /f$n
done
./ntfs-helper mkdir $img /dir
./ntfs-helper mkdir $img /dir/sub
repeat 'hello world' 50000 > $tmp/big
./ntfs-helper cp $img $tmp/big /dir/sub/big
./ntfs-helper link $img /dir/sub/big /dir/hardlink
./ntfs-helper mkdir $img /many
for i in $(seq 1 120); do
    echo $i > $tmp/x
    ./ntfs-helper cp $img $tmp/x /many/a-longish-file-name-$i
done

virt-bmap -o $tmp/ntfs.bmap $img 2> $tmp/warnings
cat $tmp/warnings
test ! -s $tmp/warnings
$srcdir/ntfs-check-map $img $tmp/ntfs.bmap /dev/sda
virt-bmap export $tmp/ntfs.bmap --format tsv > $tmp/map.tsv

# The filesystem type, and the system files as metadata.
sqlite3 $tmp/ntfs.bmap "SELECT fstype FROM objects WHERE kind = 'v'" | grep_q -x ntfs
for f in '<$MFT>' '<$MFTMirr>' '<$LogFile>' '<$Bitmap>' '<$Boot>' '<$UpCase>' \
      '<$AttrDef>' '<$Secure:$SDS>'; do
    awk -F'\t' -v p="$f" '$6 == p && $4 == "m" { n++ } END { exit !n }' $tmp/map.tsv
done
# The backup boot sector is the volume's last sector, mapped to <$Boot>.
tail -n1 $tmp/map.tsv | awk -F'\t' -v e=$((24 * 1024 * 1024)) \
    '$3 == e && $2 == e - 512 && $6 == "<$Boot>" { ok = 1 } END { exit !ok }'

# Free space is what ntfsinfo counts as free clusters.
free=$(ntfsinfo -m $img | awk '/Free Clusters:/ { print $3 }')
test "$(awk -F'\t' '$4 == "u" && $6 == "<free space>" { n += $3 - $2 } END { print n / 4096 }' $tmp/map.tsv)" -eq "$free"

# Both names of the hard link give the same extents.
virt-bmap query $tmp/ntfs.bmap --path /dev/sda:/dir/sub/big > $tmp/big1
virt-bmap query $tmp/ntfs.bmap --path /dev/sda:/dir/hardlink > $tmp/big2
test -s $tmp/big1
cmp $tmp/big1 $tmp/big2

# The directory with 120 entries has its $I30 index allocation mapped.
awk -F'\t' '$6 == "/many" && $4 == "d" && $8 != "-" { n++ } END { exit !n }' $tmp/map.tsv

# A byte in the third cluster of /f100000: its owner per ifind -d,
# its offset in the file per ntfsinfo's runlist.
lcn=$(($(ntfsinfo -f -v -F /f100000 $img | awk '/Runlist:/ && !seen { getline; print $2; seen = 1 }')))
virt-bmap query $tmp/ntfs.bmap $(((lcn + 2) * 4096 + 5)) | awk -F'\t' '$3 == "f"' > $tmp/hit
test "$(wc -l < $tmp/hit)" -eq 1
test "$(cut -f5 $tmp/hit)" = /f100000
test "$(cut -f6 $tmp/hit)" -eq "$(ifind -d $((lcn + 2)) $img | cut -d- -f1)"
test "$(cut -f7 $tmp/hit)" -eq $((2 * 4096 + 5))

# A read of a file's MFT record is attributed to the file (inline, no
# offset), inside <$MFT>: record = inode number per ifind, $MFT's first
# cluster per ntfsinfo -m.
mftlcn=$(ntfsinfo -m $img | awk '/LCN of Data Attribute for FILE_MFT:/ { print $NF }')
ino=$(ifind -n /f100000 $img)
virt-bmap query $tmp/ntfs.bmap $((mftlcn * 4096 + ino * 1024 + 10)) > $tmp/hit
awk -F'\t' '$3 == "m" && $5 == "<$MFT>"' $tmp/hit | grep_q .
awk -F'\t' '$3 == "f"' $tmp/hit > $tmp/fhit
test "$(cut -f5,6,7,10 $tmp/fhit)" = "/f100000	$ino	-	inline"
