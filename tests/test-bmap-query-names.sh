#!/usr/bin/env bash
# query --path by every name an object has: its primary path (the
# objects table) and its further hard-link names (the names table),
# on the device asked for only: two disks hold the same paths, a path
# that is a further name on one disk is nothing on the other.  Each
# answer checked against debugfs (the inode of each name per disk).
source ./functions.sh
set -x
requires debugfs -V

for d in a b; do
    mkdir -p "$tmp/$d/dir"
    echo "$d one" > "$tmp/$d/one"
    repeat "$d linked" 10000 > "$tmp/$d/dir/linked"
    ln "$tmp/$d/dir/linked" "$tmp/$d/second"
    ln "$tmp/$d/dir/linked" "$tmp/$d/dir/third"
done
# Only on b: a file with a second name.
echo only b > "$tmp/b/onlyb"
ln "$tmp/b/onlyb" "$tmp/b/dir/onlyb-link"
for d in a b; do
    truncate -s 8M "$tmp/$d.img"
    $MKFS_EXT4 -d "$tmp/$d" "$tmp/$d.img"
done
virt-bmap -q -o "$tmp/ab.bmap" "$tmp/a.img" "$tmp/b.img"

# inode DISK-IMAGE PATH: per debugfs.
inode ()
{
    debugfs -R "stat $2" "$1" 2>/dev/null | awk '/^Inode:/ { print $2 }'
}
dev_of () { [ "$1" = a ] && echo /dev/sda || echo /dev/sdb; }

# Every name of each file on each disk: the object of the inode debugfs
# gives, its extents (the same whatever the name), on that disk only.
for d in a b; do
    dev=$(dev_of $d)
    for p in /one /dir/linked /second /dir/third /dir; do
        virt-bmap query "$tmp/ab.bmap" --path "$dev:$p" > "$tmp/q"
        cat "$tmp/q"
        test -s "$tmp/q"
        # Columns: disk start end kind device path inode offset flags ...
        test "$(cut -f5 "$tmp/q" | sort -u)" = "$dev"
        test "$(cut -f1 "$tmp/q" | sort -u)" = $([ $d = a ] && echo 0 || echo 1)
        test "$(cut -f7 "$tmp/q" | sort -u)" = "$(inode "$tmp/$d.img" "$p")"
    done
    # The three names of the linked file: one object, the same extents.
    for p in /dir/linked /second /dir/third; do
        virt-bmap query "$tmp/ab.bmap" --path "$dev:$p" | cut -f1-4,7-9 > "$tmp/ext${p//\//_}"
    done
    test -s "$tmp/ext_dir_linked"
    cmp "$tmp/ext_dir_linked" "$tmp/ext_second"
    cmp "$tmp/ext_dir_linked" "$tmp/ext_dir_third"
done
# The names table really is used: two of the three names are there.
test "$(sqlite3 "$tmp/ab.bmap" "SELECT count(*) FROM names n JOIN objects o ON o.id = n.object WHERE o.device = '/dev/sdb' AND o.inode = $(inode "$tmp/b.img" /second)")" -eq 2

# b's names only on b.
virt-bmap query "$tmp/ab.bmap" --path /dev/sdb:/dir/onlyb-link > "$tmp/q"
test "$(cut -f7 "$tmp/q" | sort -u)" = "$(inode "$tmp/b.img" /dir/onlyb-link)"
virt-bmap query "$tmp/ab.bmap" --path /dev/sdb:/onlyb > "$tmp/q2"
cmp "$tmp/q" "$tmp/q2"
expect_fail virt-bmap query "$tmp/ab.bmap" --path /dev/sda:/dir/onlyb-link
expect_fail virt-bmap query "$tmp/ab.bmap" --path /dev/sda:/onlyb
expect_fail virt-bmap query "$tmp/ab.bmap" --path /dev/sdc:/one
expect_fail virt-bmap query "$tmp/ab.bmap" --path /dev/sda:/dir/nothing
