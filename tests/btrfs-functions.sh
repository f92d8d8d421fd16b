# Helpers of the btrfs tests, sourced after functions.sh: it brings
# part-functions.sh (map).  The images are made by mkfs.btrfs --rootdir
# (no root) or by the kernel in the libguestfs appliance
# (make-btrfs-kernel-image, once per run); btrfs-check-map compares a
# map with btrfs-progs reading the same bytes (dump-tree,
# btrfs-map-logical) and with the files the kernel read.

source "$srcdir/part-functions.sh"

# requires_mkfs_btrfs: what the tests of mkfs.btrfs --rootdir images
# need, or the test is skipped.
requires_mkfs_btrfs ()
{
    requires mkfs.btrfs --version
    requires which btrfs-map-logical
    requires python3 --version
}

requires_btrfs ()
{
    requires btrfs --version
    requires sh -c 'command -v btrfs-map-logical'
    requires python3 -c 'import lzo, zstandard'
    requires tar --version
    requires sqlite3 --version
}

# btrfs_kernel: the tests of the kernel-made images skip unless their
# tools are there; sets $kdir (kernel_images btrfs).
btrfs_kernel ()
{
    requires_btrfs
    requires jq --version
    requires debugfs -V
    kernel_images btrfs
}

# btrfs_kernel_disk: btrfs_kernel, then $img ($tmp/disk.img) a copy of
# the single-device disk, its btrfs partition copied out to $tmp/p1.img
# (for btrfs-progs) and $start that partition's first sector.
btrfs_kernel_disk ()
{
    btrfs_kernel
    img=$tmp/disk.img
    cp --sparse=always $kdir/disk.img $img
    btrfs_part $img 1 $tmp/p1.img
    start=$(sfdisk --json $img | jq '.partitiontable.partitions[0].start')
}

# btrfs_kernel_files [MEMBER...]: the files the kernel wrote to the
# single-device disk (all of them, or the MEMBERs named), in $tmp/src.
btrfs_kernel_files ()
{
    mkdir -p $tmp/src
    tar -C $tmp/src -xf $kdir/p1.tar "$@"
}

# btrfs_part IMG N OUT: partition N of IMG copied out (sparse) to OUT,
# for btrfs-progs, which cannot take an offset.
btrfs_part ()
{
    local start size
    read -r start size < <(sfdisk --json "$1" |
        jq -r ".partitiontable.partitions[$(($2 - 1))] | \"\(.start) \(.size)\"")
    dd if="$1" of="$3" bs=512 skip=$start count=$size conv=sparse status=none
}

# check_btrfs SRCDIR MEMBER...: btrfs-check-map on $tmp/map.bmap, and no
# warnings mapping (map's $tmp/warnings).  Both are run before either
# fails the test, so that its log says all that is wrong.
check_btrfs ()
{
    local r=0
    "$srcdir/btrfs-check-map" $tmp/map.bmap "$@" || r=1
    if [ -s $tmp/warnings ]; then
        cat $tmp/warnings
        echo "warnings mapping a sound filesystem" >&2
        r=1
    fi
    return $r
}

# mutant NAME SQL: a copy of $tmp/map.bmap changed by SQL, as
# $tmp/NAME.bmap, which must change something.
mutant ()
{
    cp $tmp/map.bmap $tmp/$1.bmap
    sqlite3 $tmp/$1.bmap "$2; select changes();" > $tmp/changes
    [ "$(tail -n 1 $tmp/changes)" -gt 0 ] || fail "mutant $1 changed nothing"
}
