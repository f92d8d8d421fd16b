#!/usr/bin/env bash
# The libguestfs appliance reads files of a btrfs filesystem through
# bmaplog (the single-device disk of make-btrfs-kernel-image, every
# chunk moved so logical != physical): the trace names them by their
# paths from the top level, and the read pieces of a fragmented file
# and of a snapshot's file cover every byte of each; a zstd file's
# reads are of its compressed extents.
source ./functions.sh
set -x -o pipefail
source "$srcdir/part-functions.sh"
source "$srcdir/btrfs-functions.sh"
requires_btrfs
requires jq --version
export LIBGUESTFS_BACKEND=direct
btrfs_kernel_image

img=$tmp/disk.img
cp --sparse=always $kdir/disk.img $img
mkdir $tmp/src
tar -C $tmp/src -xf $kdir/p1.tar ./@/frag/a ./@home-snap/user/photo.bin ./@/zstd/text
virt-bmap -q -o $tmp/disk.bmap $img

timeout 900 bmaplog -m $tmp/disk.bmap $img -r -U - --no-log \
    --trace $tmp/trace.jsonl \
    --run 'guestfish --ro --format=raw -a "nbd://?socket=$unixsocket" run : mount-ro /dev/sda1 / : checksum sha256 /@/frag/a : checksum sha256 /@home-snap/user/photo.bin : checksum sha256 /@/zstd/text' \
    > $tmp/out
for f in @/frag/a @home-snap/user/photo.bin @/zstd/text; do
    sha256sum < $tmp/src/$f | cut -d' ' -f1
done > $tmp/want
diff -u $tmp/want $tmp/out

# covered PATH SIZE: the trace's reads of PATH at file offsets cover
# [0, SIZE) of the file.
covered ()
{
    jq -r --arg p "$1" \
        'select(.op == "read" and .kind == "f" and .device == "/dev/sda1" and
                .path == $p and .object_offset != null) |
        "\(.object_offset) \(.length)"' \
        $tmp/trace.jsonl | sort -n -k1,1 > $tmp/pieces
    test -s $tmp/pieces || fail "$1 is not in the trace"
    awk -v size="$2" 'BEGIN { pos = 0 }
        $1 + 0 > pos { exit } $1 + $2 > pos { pos = $1 + $2 }
        END { if (pos < size) { print "covered to " pos " of " size; exit 1 } }' \
        $tmp/pieces
}
covered /@/frag/a $(stat -c %s $tmp/src/@/frag/a)
covered /@home-snap/user/photo.bin $(stat -c %s $tmp/src/@home-snap/user/photo.bin)
# The zstd file was read as its compressed extents: read pieces of it
# lie inside extents the map flags compressed (32) (all but the 4 KiB
# rewritten uncompressed), and less than its 600 KiB was read.
jq -r 'select(.op == "read" and .kind == "f" and .path == "/@/zstd/text") |
       "\(.offset) \(.length)"' $tmp/trace.jsonl > $tmp/zpieces
test -s $tmp/zpieces || fail "/@/zstd/text is not in the trace"
sqlite3 -separator ' ' $tmp/disk.bmap "select e.start, e.end, e.flags & 32
    from extents e join objects o on o.id = e.object
    where o.path = '/@/zstd/text'" > $tmp/zext
awk 'NR == FNR { s[NR] = $1; e[NR] = $2; c[NR] = $3; n = NR; next }
     { in_c = 0; for (i = 1; i <= n; i++) if ($1 >= s[i] && $1 + $2 <= e[i] && c[i]) in_c = 1
       if (in_c) comp += $2; else plain += $2 }
     END { print comp " bytes read compressed, " plain " not"
           if (comp == 0 || plain > 4096 || comp + plain >= 600 * 1024) exit 1 }' \
    $tmp/zext $tmp/zpieces
