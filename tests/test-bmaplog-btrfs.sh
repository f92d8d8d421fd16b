#!/usr/bin/env bash
# The libguestfs appliance reads files of a btrfs filesystem through
# bmaplog (the single-device disk of make-btrfs-kernel-image, every
# chunk moved so logical != physical): the trace names them by their
# paths from the top level, and the read pieces of a fragmented file
# and of a file only the snapshot has cover every byte of each; a file
# the snapshot shares with @home is covered by pieces named after
# either (the map's index gives a shared piece one owner), at the same
# offsets; an lzo file's reads are of its compressed extents only.
source ./functions.sh
set -x -o pipefail
source "$srcdir/btrfs-functions.sh"
btrfs_kernel_disk
files="@/frag/a @home-snap/user/new @home-snap/user/photo.bin @/lzo/text"
btrfs_kernel_files $(printf './%s ' $files)
virt-bmap -q -o $tmp/disk.bmap $img

timeout 900 bmaplog -m $tmp/disk.bmap $img -r -U - --no-log \
    --trace $tmp/trace.jsonl \
    --run "guestfish --ro --format=raw -a \"nbd://?socket=\$unixsocket\" run : mount-ro /dev/sda1 / $(printf ': checksum sha256 /%s ' $files)" \
    > $tmp/out
for f in $files; do
    sha256sum < $tmp/src/$f | cut -d' ' -f1
done > $tmp/want
diff -u $tmp/want $tmp/out

# covered PATH SIZE [OTHER]: the trace's reads of PATH (or of OTHER, a
# file sharing its extents at the same offsets) at file offsets cover
# [0, SIZE) of the file.
covered ()
{
    jq -r --arg p "$1" --arg q "${3:-$1}" \
        'select(.op == "read" and .kind == "f" and .device == "/dev/sda1" and
                (.path == $p or .path == $q) and .object_offset != null) |
        "\(.object_offset) \(.length)"' \
        $tmp/trace.jsonl | sort -n -k1,1 > $tmp/pieces
    test -s $tmp/pieces || fail "$1 is not in the trace"
    awk -v size="$2" 'BEGIN { pos = 0 }
        $1 + 0 > pos { exit } $1 + $2 > pos { pos = $1 + $2 }
        END { if (pos < size) { print "covered to " pos " of " size; exit 1 } }' \
        $tmp/pieces
}
covered /@/frag/a $(stat -c %s $tmp/src/@/frag/a)
covered /@home-snap/user/new $(stat -c %s $tmp/src/@home-snap/user/new)
covered /@home-snap/user/photo.bin $(stat -c %s $tmp/src/@home-snap/user/photo.bin) \
    /@home/user/photo.bin
# The lzo file was read as its compressed extents: every read piece of
# it lies inside an extent the map flags compressed (32), and less than
# its 600 KiB was read.
jq -r 'select(.op == "read" and .kind == "f" and .path == "/@/lzo/text") |
       "\(.offset) \(.length)"' $tmp/trace.jsonl > $tmp/zpieces
test -s $tmp/zpieces || fail "/@/lzo/text is not in the trace"
sqlite3 -separator ' ' $tmp/disk.bmap "select e.start, e.end, e.flags & 32
    from extents e join objects o on o.id = e.object
    where o.path = '/@/lzo/text'" > $tmp/zext
awk 'NR == FNR { s[NR] = $1; e[NR] = $2; c[NR] = $3; n = NR; next }
     { in_c = 0; for (i = 1; i <= n; i++) if ($1 >= s[i] && $1 + $2 <= e[i] && c[i]) in_c = 1
       if (in_c) comp += $2; else plain += $2 }
     END { print comp + 0 " bytes read compressed, " plain + 0 " not"
           if (comp == 0 || plain > 0 || comp >= 600 * 1024) exit 1 }' \
    $tmp/zext $tmp/zpieces
