#!/usr/bin/env bash
# btrfs over four devices (four disk images mapped together), made by
# mkfs.btrfs with every profile for data and metadata: RAID0, RAID1,
# RAID10, RAID5, RAID6, RAID1C3, RAID1C4.  btrfs-devices-check finds
# at every place the map gives a tree the tree block that belongs
# there (header and crc32c), each block of dump-tree as many times as
# its profile keeps copies, and each device covered exactly.  Then a
# device missing: a warning, the others mapped.
source ./functions.sh
set -x -o pipefail
requires mkfs.btrfs --version
requires python3 --version

d=$tmp/dev
make_fs ()
{
    rm -f $d.1 $d.2 $d.3 $d.4
    truncate -s 300m $d.1 $d.2 $d.3 $d.4
    mkfs.btrfs -q -f -d $1 -m $2 $d.1 $d.2 $d.3 $d.4
}

for p in "raid0 raid1" "raid10 raid10" "raid5 raid5" "raid6 raid6" \
         "single raid1c3" "raid1 raid1c4"; do
    make_fs $p
    virt-bmap -o $tmp/map.bmap $d.1 $d.2 $d.3 $d.4 2> $tmp/stderr
    cat $tmp/stderr
    if grep 'warning:' $tmp/stderr; then
        fail "warnings mapping a sound filesystem ($p)"
    fi
    "$srcdir/btrfs-devices-check" $tmp/map.bmap $d.1 $d.2 $d.3 $d.4
    # RAID5/6: parity of its own, on every device.
    case $p in
        raid5*|raid6*)
            virt-bmap export $tmp/map.bmap --format tsv > $tmp/map.tsv
            for disk in 0 1 2 3; do
                awk -F'\t' -v d=$disk '$1 == d && $6 == "<raid parity>"' \
                    $tmp/map.tsv > $tmp/parity
                test -s $tmp/parity
            done ;;
    esac
done

# Given in another order, the same map.
make_fs raid10 raid1
virt-bmap -o $tmp/map.bmap $d.3 $d.1 $d.4 $d.2 2> $tmp/stderr
cat $tmp/stderr
"$srcdir/btrfs-devices-check" $tmp/map.bmap $d.3 $d.1 $d.4 $d.2

# Device 4 missing: what is on the others is mapped.
virt-bmap -o $tmp/map.bmap $d.1 $d.2 $d.3 2> $tmp/stderr
cat $tmp/stderr
grep_q 'btrfs device 4 (.* bytes) is missing' $tmp/stderr
virt-bmap export $tmp/map.bmap --format tsv > $tmp/map.tsv
grep_q '<root tree>' $tmp/map.tsv
