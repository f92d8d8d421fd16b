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
sqlite3 "$db" "SELECT value FROM meta WHERE key='created'" | grep -qE '^[0-9]{4}-[0-9]{2}-[0-9]{2}T'
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
