#!/usr/bin/env bash
# The map is a documented SQLite file: provenance and the R*Tree index
# are usable with the sqlite3 shell alone.
source ./functions.sh
set -x
requires sqlite3 --version

"$srcdir/make-sample-image" "$tmp/disk.img"
virt-bmap -q -o "$tmp/disk.bmap" "$tmp/disk.img"
db="$tmp/disk.bmap"

test "$(sqlite3 "$db" "SELECT value FROM meta WHERE key='schema_version'")" = 1
sqlite3 "$db" "SELECT value FROM meta WHERE key='created'" | grep_q -E '^[0-9]{4}-[0-9]{2}-[0-9]{2}T'
test "$(sqlite3 "$db" "SELECT size FROM disks WHERE disk=0")" = "$(stat -c %s "$tmp/disk.img")"
test "$(sqlite3 "$db" "SELECT mtime FROM disks WHERE disk=0")" = "$(stat -c %Y "$tmp/disk.img")"
test "$(sqlite3 "$db" "SELECT device FROM disks WHERE disk=0")" = /dev/sda

# Every extent is in the R*Tree.
test "$(sqlite3 "$db" "SELECT count(*) FROM extents")" = \
     "$(sqlite3 "$db" "SELECT count(*) FROM extents_rtree")"
# Every parent precedes its children (lookups rely on it).
test "$(sqlite3 "$db" "SELECT count(*) FROM objects WHERE parent >= id")" = 0
# Every extent lies inside its parent object's extents.
test "$(sqlite3 "$db" "
  SELECT count(*) FROM extents e JOIN objects o ON o.id = e.object
  WHERE o.parent IS NOT NULL AND NOT EXISTS (
    SELECT 1 FROM extents p WHERE p.object = o.parent
    AND p.start <= e.start AND e.end <= p.end)")" = 0

# SQLite finds the file it did not write itself intact.
test "$(sqlite3 "$db" "PRAGMA integrity_check")" = ok
test "$(sqlite3 "$db" "SELECT rtreecheck('extents_rtree')")" = ok

# Paths longer than a page (deep directories: objects rows and
# objects_path entries overflow) and a file with 300 names.
requires debugfs -V
mkdir "$tmp/root"
long=$(printf 'd%.0s' {1..200})
(
    cd "$tmp/root"
    for i in $(seq 25); do mkdir "$long$i"; cd "$long$i"; done
    echo deep > file
)
echo linked > "$tmp/root/target"
mkdir "$tmp/root/links"
for i in $(seq 300); do ln "$tmp/root/target" "$tmp/root/links/name$i"; done
truncate -s 64M "$tmp/deep.img"
$MKFS_EXT4 -d "$tmp/root" "$tmp/deep.img"
virt-bmap -q -o "$tmp/deep.bmap" "$tmp/deep.img"
db="$tmp/deep.bmap"
test "$(sqlite3 "$db" "PRAGMA integrity_check")" = ok
test "$(sqlite3 "$db" "SELECT rtreecheck('extents_rtree')")" = ok
test "$(sqlite3 "$db" "SELECT count(*) FROM objects WHERE length(path) > 4096")" -ge 5

# debugfs names the same inodes by the same paths ("//" for the root).
names_of ()
{
    debugfs -R "ncheck $1" "$tmp/deep.img" 2>/dev/null |
        tail -n +2 | cut -f2- | sed 's|^//|/|' | sort
}
ino=$(sqlite3 "$db" "SELECT inode FROM objects WHERE path LIKE '%/file'")
path=$(sqlite3 "$db" "SELECT path FROM objects WHERE inode = $ino")
test ${#path} -gt 5000
test "$path" = "$(names_of "$ino")"
# Found through the objects_path index.
virt-bmap query "$tmp/deep.bmap" --path "/dev/sda:$path" | cut -f7 | sort -u > "$tmp/out"
test "$(cat "$tmp/out")" = "$ino"

ino=$(sqlite3 "$db" "SELECT inode FROM objects WHERE path = '/target'")
sqlite3 "$db" "SELECT path FROM objects WHERE inode = $ino
               UNION ALL SELECT n.path FROM names n JOIN objects o
               ON o.id = n.object WHERE o.inode = $ino" | sort > "$tmp/names"
names_of "$ino" > "$tmp/expected"
test "$(wc -l < "$tmp/expected")" = 301
diff -u "$tmp/expected" "$tmp/names"
virt-bmap query "$tmp/deep.bmap" --path /dev/sda:/links/name150 | cut -f7 | sort -u > "$tmp/out"
test "$(cat "$tmp/out")" = "$ino"
