#!/usr/bin/env bash
# The libguestfs appliance reads files of XFS filesystems through
# bmaplog (the disk of make-xfs-kernel-image: XFS in a partition and in
# an LVM LV): the trace names them, on their devices, and their read
# pieces cover every byte of each (a fragmented file: 80 extents).
source ./functions.sh
set -x -o pipefail
source "$srcdir/xfs-functions.sh"
requires jq --version
requires tar --version
kernel_images xfs

img=$tmp/disk.img
cp --sparse=always $kdir/disk.img $img
mkdir $tmp/p1 $tmp/lv
tar -C $tmp/p1 -xf $kdir/p1.tar ./frag/b
tar -C $tmp/lv -xf $kdir/lv.tar ./dir/inlv
virt-bmap -q -o $tmp/disk.bmap $img

timeout 900 bmaplog -m $tmp/disk.bmap $img -r -U - --no-log \
    --trace $tmp/trace.jsonl \
    --run 'guestfish --ro --format=raw -a "nbd://?socket=$unixsocket" run : mount-ro /dev/sda1 / : checksum sha256 /frag/b : umount / : vg-activate-all true : mount-ro /dev/xvg/xlv / : checksum sha256 /dir/inlv' \
    > $tmp/out
sha256sum < $tmp/p1/frag/b | cut -d' ' -f1 > $tmp/want
sha256sum < $tmp/lv/dir/inlv | cut -d' ' -f1 >> $tmp/want
diff -u $tmp/want $tmp/out

# covered DEVICE PATH SIZE: the trace's reads of PATH on DEVICE at file
# offsets (not its bmap btree block) cover [0, SIZE) of the file.
covered ()
{
    jq -r --arg d "$1" --arg p "$2" \
        'select(.op == "read" and .kind == "f" and .device == $d and
                .path == $p and .object_offset != null) |
        "\(.object_offset) \(.length)"' \
        $tmp/trace.jsonl | sort -n -k1,1 > $tmp/pieces
    test -s $tmp/pieces || fail "$1 $2 is not in the trace"
    awk -v size="$3" 'BEGIN { pos = 0 }
        $1 + 0 > pos { exit } $1 + $2 > pos { pos = $1 + $2 }
        END { if (pos < size) { print "covered to " pos " of " size; exit 1 } }' \
        $tmp/pieces
}
covered /dev/sda1 /frag/b $(stat -c %s $tmp/p1/frag/b)
covered /dev/xvg/xlv /dir/inlv $(stat -c %s $tmp/lv/dir/inlv)
