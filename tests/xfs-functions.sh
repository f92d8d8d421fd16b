# Helpers of the XFS tests, sourced after functions.sh: it brings
# part-functions.sh (map) and skips the test unless the XFS tools are
# there.  Images are made by mkfs.xfs from a protofile (no root) or by
# the kernel in the libguestfs appliance (xfs-kernel-image);
# xfs-check-map compares the map with xfs_db reading the same bytes.

source "$srcdir/part-functions.sh"
requires mkfs.xfs -V
requires xfs_db -V
requires python3 --version

# mkfs_xfs ARGS...: mkfs.xfs, quiet, with the tests' UUID.  The three
# variables are how xfstests lifts mkfs.xfs's 300 MB minimum: the test
# filesystems are small.
mkfs_xfs ()
{
    TEST_DIR=/nonexistent TEST_DEV=/nonexistent QA_CHECK_FS=xfs \
        mkfs.xfs -q -f -m uuid=$TEST_UUID "$@"
}

# make_xfs IMG SIZE MKFS-ARGS...: an XFS filesystem of SIZE holding the
# tree of xfs-make-tree, in a new file; sets $src to the tree ($tmp/src,
# or $tmp/src4 for v4, with a remote symlink).
make_xfs ()
{
    local img=$1 size=$2 v4=
    shift 2
    src=$tmp/src
    case " $* " in *crc=0*) v4=--v4 src=$tmp/src4 ;; esac
    if [ ! -d $src ]; then
        "$srcdir/xfs-make-tree" $v4 $src $src.proto
    fi
    rm -f "$img"
    truncate -s "$size" "$img"
    mkfs_xfs -p $src.proto "$@" "$img"
}

# check_xfs IMG DEVICE [SRCDIR]: maps IMG (no warnings allowed) and checks
# the filesystem on DEVICE against xfs_db (and SRCDIR's files).
check_xfs ()
{
    map "$1"
    if [ -s $tmp/warnings ]; then
        cat $tmp/warnings
        fail "warnings mapping a sound filesystem"
    fi
    "$srcdir/xfs-check-map" "$1" $tmp/map.bmap "${@:2}"
}
