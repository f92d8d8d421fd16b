#!/usr/bin/env bash
# The R*Tree is written bottom-up (lib/rtree-write.c): SQLite's own
# rtreecheck() must accept it, and offset queries through it must find
# exactly what a full scan of the extents table finds, also at extent
# edges, where the tree's 32-bit float coordinates round.
source ./functions.sh
set -x
requires sqlite3 --version

# Over 51 x 51 extents (the cells per node with 4 KiB pages) makes a
# tree of depth 2; 96 MiB makes float rounding matter.
mkdir "$tmp/root"
for d in $(seq 0 29); do
    mkdir "$tmp/root/d$d"
    for f in $(seq 0 99); do echo "$d $f" > "$tmp/root/d$d/f$f"; done
done
truncate -s 96M "$tmp/a.img"
$MKFS_EXT4 -N 4000 -d "$tmp/root" "$tmp/a.img"
truncate -s 8M "$tmp/b.img"
$MKFS_EXT4 "$tmp/b.img"
virt-bmap -q -o "$tmp/m.bmap" "$tmp/a.img" "$tmp/b.img"
db="$tmp/m.bmap"

test "$(sqlite3 "$db" "SELECT rtreecheck('extents_rtree')")" = ok
test "$(sqlite3 "$db" "SELECT count(*) FROM extents_rtree")" = \
     "$(sqlite3 "$db" "SELECT count(*) FROM extents")"

sqlite3 "$db" "SELECT hex(substr(data, 1, 2)) FROM extents_rtree_node WHERE nodeno = 1" | grep_q -x '000[2-9]'

# Offsets: the edges of 200 random extents of each disk, and 200
# random offsets of each disk.
for disk in 0 1; do
    sqlite3 "$db" "
      WITH e AS MATERIALIZED (SELECT start, end FROM extents
                              WHERE disk = $disk ORDER BY random() LIMIT 200),
           s AS (SELECT size FROM disks WHERE disk = $disk)
      SELECT start FROM e UNION SELECT end - 1 FROM e
      UNION SELECT end FROM e, s WHERE end < s.size
      UNION SELECT start - 1 FROM e WHERE start > 0;
      SELECT abs(random()) % (SELECT size FROM disks WHERE disk = $disk)
      FROM extents LIMIT 200" | sort -un > "$tmp/offsets$disk"
    test "$(wc -l < "$tmp/offsets$disk")" -gt 200

    # Through the R*Tree: offset start end of every hit.
    virt-bmap query --disk $disk "$db" $(cat "$tmp/offsets$disk") |
        awk -F'\t' '{ print $1, $8, $9 }' | sort > "$tmp/tree$disk"
    # The oracle: a scan of the extents table.
    sqlite3 "$db" "CREATE TEMP TABLE o (off INTEGER);
                   $(sed 's/.*/INSERT INTO o VALUES (&);/' "$tmp/offsets$disk")
                   SELECT off, start, end FROM o JOIN extents
                   ON disk = $disk AND start <= off AND off < end" |
        tr '|' ' ' | sort > "$tmp/scan$disk"
    test -s "$tmp/scan$disk"
    diff -u "$tmp/scan$disk" "$tmp/tree$disk"
done
