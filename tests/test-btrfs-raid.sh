#!/usr/bin/env bash
# Multi-device btrfs (make-btrfs-kernel-image): four disks mapped
# together, four partitions each, holding five filesystems made by the
# kernel: data RAID1 (two devices, every chunk moved by a full balance),
# data RAID0 with RAID1 metadata, data RAID10 with RAID1C3 metadata
# (four devices), data RAID5 with RAID6 metadata (four devices), data
# RAID6 with RAID1C4 metadata (four devices).
# dump-super says which partition belongs to which filesystem,
# dump-tree shows each profile is there, btrfs-check-map checks each
# filesystem's map (every copy, stripe and parity placed from the chunk
# tree) against dump-tree and every file against the one the kernel
# read.  A map missing one RAID1 copy, or with RAID0 stripes swapped,
# must fail the checker.
source ./functions.sh
set -x -o pipefail
source "$srcdir/btrfs-functions.sh"
btrfs_kernel

imgs=()
for i in 0 1 2 3; do
    cp --sparse=always $kdir/r$i.img $tmp/r$i.img
    imgs+=($tmp/r$i.img)
done
virt-bmap -o $tmp/map.bmap "${imgs[@]}" 2> $tmp/stderr
cat $tmp/stderr
grep 'warning:' $tmp/stderr > $tmp/warnings || :

# Each filesystem's members, by label, with their names in the map.
declare -A members
letters=(a b c d)
for i in 0 1 2 3; do
    for p in 1 2 3 4; do
        btrfs_part $tmp/r$i.img $p $tmp/part.img
        btrfs inspect-internal dump-super $tmp/part.img > $tmp/super
        label=$(sed -n 's/^label[ \t]*//p' $tmp/super)
        members[$label]+=" /dev/sd${letters[$i]}$p"
    done
done
rm $tmp/part.img
declare -p members
for fs in r1 r0 r10 r56 r6; do
    set -- ${members[$fs]}
    case $fs in r1|r0) n=2 ;; *) n=4 ;; esac
    [ $# = $n ] || fail "$fs: members ${members[$fs]}"
done

# The profiles are there: dump-tree over each filesystem's members.
profiles ()
{
    local args=() m
    for m in ${members[$1]}; do
        btrfs_part $tmp/r$(( $(printf %d "'${m:7:1}") - 97 )).img ${m:8} $tmp/$1-${m:5}.img
        args+=($tmp/$1-${m:5}.img)
    done
    btrfs inspect-internal dump-tree -d --noscan "${args[@]}" |
        sed -n 's/.* type \([A-Z]*|[A-Z0-9]*\)$/\1/p' | sort -u | tr '\n' ' '
    rm -f "${args[@]}"
}
test "$(profiles r1)" = "DATA|RAID1 METADATA|RAID1 SYSTEM|RAID1 "
test "$(profiles r0)" = "DATA|RAID0 METADATA|RAID1 SYSTEM|RAID1 "
test "$(profiles r10)" = "DATA|RAID10 METADATA|RAID1C3 SYSTEM|RAID1C3 "
test "$(profiles r56)" = "DATA|RAID5 METADATA|RAID6 SYSTEM|RAID6 "
test "$(profiles r6)" = "DATA|RAID6 METADATA|RAID1C4 SYSTEM|RAID1C4 "

# Every filesystem against the oracles.
bad=
for fs in r1 r0 r10 r56 r6; do
    rm -rf $tmp/src
    mkdir $tmp/src
    tar -C $tmp/src -xf $kdir/$fs.tar
    check_btrfs $tmp/src ${members[$fs]} || bad+=" $fs"
done
[ -z "$bad" ] || fail "maps of$bad are not the oracle's"

# Broken maps fail the checker: one RAID1 copy of a file missing, and
# the two RAID0 devices' stripes swapped.
rm -rf $tmp/src
mkdir $tmp/src
tar -C $tmp/src -xf $kdir/r1.tar
set -- ${members[r1]}
mutant onecopy "delete from extents where object in (select id from objects
    where path = '/d/big' and kind = 'f') and disk = (select disk from objects
    where device = '$2' and kind = 'p')"
expect_fail "$srcdir/btrfs-check-map" $tmp/onecopy.bmap $tmp/src ${members[r1]}
rm -rf $tmp/src
mkdir $tmp/src
tar -C $tmp/src -xf $kdir/r0.tar
set -- ${members[r0]}
a=$(( $(printf %d "'${1:7:1}") - 97 )) b=$(( $(printf %d "'${2:7:1}") - 97 ))
mutant swapped "update extents set disk = $a + $b - disk where object in
    (select id from objects where path = '/d/big' and kind = 'f')"
expect_fail "$srcdir/btrfs-check-map" $tmp/swapped.bmap $tmp/src ${members[r0]}
