#!/usr/bin/env bash
# Disks with 4096-byte logical sectors (4Kn), made by fdisk -b 4096
# (this sfdisk has no --sector-size): a GPT and an MBR with logical
# partitions, each holding ext4 filesystems.  Oracles: fdisk -b 4096
# -l and The Sleuth Kit's mmls -b 4096 for the partitions, debugfs for
# a file's blocks and its content.  Then a corrupt 4K GPT (the backup
# is used), and --sector-size forcing.
source ./functions.sh
set -x
requires debugfs -V
requires fdisk --version
requires mmls -V
source "$srcdir/part-functions.sh"

ss=4096
size=$((48 * 1024 * 1024))
mkdir $tmp/root
head -c 10000 /dev/urandom > $tmp/root/file

# fs_at IMG LBA SECTORS: an ext4 filesystem with 4 KiB blocks holding
# $tmp/root, filling the partition at LBA.
fs_at ()
{
    rm -f $tmp/fs.img
    $MKFS_EXT4 -b $ss -d $tmp/root $tmp/fs.img $(( $3 * ss / 1024 ))k
    dd if=$tmp/fs.img of="$1" bs=$ss seek="$2" conv=notrunc status=none
}

# expected_parts IMG: "device start end" in bytes per fdisk -b 4096.
expected_parts ()
{
    fdisk -b $ss -l -o Device,Start,End "$1" |
        awk -v img="$1" -v ss=$ss 'index($1, img) == 1 {
            print "/dev/sda" substr($1, length(img) + 1), $2 * ss, ($3 + 1) * ss
        }' | sort
}

# mmls_parts IMG: "start end" in bytes of the partitions (not the
# extended containers) per mmls.
mmls_parts ()
{
    mmls -b $ss "$1" |
        awk -v ss=$ss '$2 ~ /^[0-9]+(:[0-9]+)?$/ {
            print $3 * ss, ($4 + 1) * ss }' | sort
}

# check_file DEV: the map's extents of DEV:/file are the blocks
# debugfs gives, and the bytes there are the file per debugfs.
check_file ()
{
    local start=$(part_field $1 start)
    virt-bmap query $tmp/map.bmap --path $1:/file > $tmp/file.tsv
    awk -F'\t' -v s=$start -v ss=$ss '{
        for (b = ($2 - s) / ss; b < ($3 - s) / ss; b++) print b }' \
        $tmp/file.tsv > $tmp/map-blocks
    debugfs -R 'blocks /file' $tmp/fs.img | tr ' ' '\n' | grep . \
        > $tmp/blocks
    diff -u $tmp/blocks $tmp/map-blocks
    while IFS=$'\t' read -r _ s e _; do
        bytes $tmp/disk.img $s $((e - s))
    done < $tmp/file.tsv > $tmp/blocks.bin
    head -c 10000 $tmp/blocks.bin > $tmp/mapped
    debugfs -R 'cat /file' $tmp/fs.img > $tmp/cat
    cmp $tmp/cat $tmp/mapped
}

# ---- GPT: partition 1 (8 MiB, ext4) and 2 (the rest). ----
img=$tmp/gpt.img
truncate -s $size $img
printf 'g\nn\n1\n\n+8M\nn\n2\n\n\nw\n' | fdisk -b $ss $img
expected_parts $img > $tmp/expected
test "$(wc -l < $tmp/expected)" -eq 2
fs_at $img $(( $(part_field /dev/sda1 start) / ss )) 2048
cp $img $tmp/disk.img

map $img
test ! -s $tmp/warnings
map_parts | diff -u $tmp/expected -
map_parts | awk '{ print $2, $3 }' | sort | diff -u <(mmls_parts $img) -
children /dev/sda /dev/sda1 /dev/sda2 | tiles 0 $size
children /dev/sda | grep_q -x "$ss $((2 * ss)) m <gpt header>"
check_file /dev/sda1

# Forced to 4096: the same; forced to 512: there is no GPT.
virt-bmap --sector-size 4096 -o $tmp/forced.bmap $img 2> $tmp/stderr
if grep warning: $tmp/stderr; then fail "warnings when forced"; fi
virt-bmap export $tmp/forced.bmap --format tsv | diff -u $tmp/map.tsv -
virt-bmap --sector-size 512 -o $tmp/map.bmap $img 2> $tmp/stderr
grep -q 'both copies of the GPT are corrupt' $tmp/stderr
virt-bmap export $tmp/map.bmap --format tsv | awk -F'\t' '$4 == "p"' |
    grep . && fail "partitions found with 512-byte sectors"

# ---- The corrupt 4K GPT: the backup is used. ----
last=$((size / ss - 1))
for at in $((ss + 56)) $ss; do   # the disk GUID (CRC fails); the signature
    cp $img $tmp/bad.img
    flip $tmp/bad.img $at
    map $tmp/bad.img
    grep -q 'primary GPT is corrupt' $tmp/warnings
    grep -q "using the backup GPT at LBA $last" $tmp/warnings
    map_parts | diff -u $tmp/expected -
    children /dev/sda /dev/sda1 /dev/sda2 | tiles 0 $size
done
flip $tmp/bad.img $((last * ss + 56))
map $tmp/bad.img
grep -q 'both copies of the GPT are corrupt' $tmp/warnings
test -z "$(map_parts)"

# ---- Hostile 4K GPT entries, CRCs fixed (gzip's CRC-32): LBAs whose
# byte offsets overflow 64 bits.  Warnings, no crash, still tiled
# (sda2 now overlaps the backup GPT). ----
# gpt4k_set IMG HDR_LBA ENTRY FIELD_OFFSET VALUE
gpt4k_set ()
{
    local hdr=$(($2 * ss)) entries n esize
    entries=$(( $(get_le32 $1 $((hdr + 72))) * ss ))
    n=$(get_le32 $1 $((hdr + 80)))
    esize=$(get_le32 $1 $((hdr + 84)))
    put_le64 $1 $((entries + $3 * esize + $4)) $5
    bytes $1 $entries $((n * esize)) | crc32 |
        dd of=$1 bs=1 seek=$((hdr + 88)) conv=notrunc status=none
    put_le32 $1 $((hdr + 16)) 0
    bytes $1 $hdr $(get_le32 $1 $((hdr + 12))) | crc32 |
        dd of=$1 bs=1 seek=$((hdr + 16)) conv=notrunc status=none
}
cp $img $tmp/bad.img
for h in 1 $last; do
    gpt4k_set $tmp/bad.img $h 0 32 $((1 << 60))      # sda1 first LBA
    gpt4k_set $tmp/bad.img $h 0 40 $(((1 << 60) + 1)) # and last
    gpt4k_set $tmp/bad.img $h 1 40 $((1 << 62))      # sda2 last LBA
done
map $tmp/bad.img
grep -q 'sda1 starts at LBA 1152921504606846976, beyond the end' \
    $tmp/warnings
grep -q 'sda2 extends beyond the end of /dev/sda' $tmp/warnings
test "$(map_parts | cut -d' ' -f1)" = /dev/sda2
children /dev/sda /dev/sda2 | tiles --overlaps 0 $size

# ---- MBR: primary 1 (8 MiB, ext4), extended 2 with logicals 5
# (4 MiB, ext4) and 6 (the rest). ----
img=$tmp/dos.img
truncate -s $size $img
printf 'o\nn\np\n1\n\n+8M\nn\ne\n2\n\n\nn\nl\n\n+4M\nn\nl\n\n\nw\n' |
    fdisk -b $ss $img
expected_parts $img > $tmp/expected
test "$(wc -l < $tmp/expected)" -eq 4
fs_at $img $(( $(part_field /dev/sda1 start) / ss )) 2048
fs_at $img $(( $(part_field /dev/sda5 start) / ss )) 1024
cp $img $tmp/disk.img

# Detected, with a warning that it is a guess.
map $img
grep -q 'guessing that the disk has 4096-byte sectors' $tmp/warnings
test "$(wc -l < $tmp/warnings)" -eq 1
map_parts | diff -u $tmp/expected -
map_parts | grep -v '^/dev/sda2 ' | awk '{ print $2, $3 }' | sort |
    diff -u <(mmls_parts $img) -
children /dev/sda /dev/sda1 /dev/sda2 | tiles 0 $size
children /dev/sda2 /dev/sda5 /dev/sda6 |
    tiles $(part_field /dev/sda2 start) $(part_field /dev/sda2 end)
children /dev/sda | grep_q -x "0 $ss m <partition table>"
children /dev/sda2 | grep_q -x "$(part_field /dev/sda2 start) \
$(( $(part_field /dev/sda2 start) + ss )) m <ebr>"
check_file /dev/sda5
grep -q '/dev/sda1	/file	' $tmp/map.tsv

# Forced to 4096: the same map with no warning.
virt-bmap --sector-size 4096 -o $tmp/forced.bmap $img 2> $tmp/stderr
if grep warning: $tmp/stderr; then fail "warnings when forced"; fi
virt-bmap export $tmp/forced.bmap --format tsv | diff -u $tmp/map.tsv -

# Forced to 512: the primaries at 512-byte LBAs, and no filesystems.
virt-bmap --sector-size 512 -o $tmp/map.bmap $img
virt-bmap export $tmp/map.bmap --format tsv -o $tmp/map.tsv
fdisk -b $ss -l -o Device,Start,Sectors $img |
    awk -v img=$img 'index($1, img) == 1 {
        n = substr($1, length(img) + 1)
        if (n <= 4) print "/dev/sda" n, $2 * 512, ($2 + $3) * 512
    }' | sort > $tmp/expected512
map_parts | diff -u $tmp/expected512 -
if grep /file $tmp/map.tsv; then fail "a filesystem at 512"; fi

# Hostile MBR entries read with 4096-byte sectors: sda1 as long as
# an entry can be (2^32 - 1 sectors, 16 TiB), sda2 starting at the
# last LBA an entry can name.  Not guessed as 4K; forced, clipped and
# ignored with warnings.
cp $img $tmp/bad.img
put_le32 $tmp/bad.img $((446 + 12)) 4294967295
put_le32 $tmp/bad.img $((446 + 16 + 8)) 4294967295
map $tmp/bad.img
if grep guessing $tmp/warnings; then fail "guessed 4K"; fi
virt-bmap --sector-size 4096 -o $tmp/map.bmap $tmp/bad.img 2> $tmp/stderr
grep -q 'sda1 extends beyond the end of /dev/sda' $tmp/stderr
grep -q 'sda2 starts at byte 17592186040320, outside' $tmp/stderr

# Only 512 and 4096 are sector sizes.
expect_fail virt-bmap --sector-size 1024 -o $tmp/x.bmap $img
expect_fail virt-bmap --sector-size 4k -o $tmp/x.bmap $img
