#!/usr/bin/env bash
# nbdinfo: export details, --list of several exports, and --map of a
# sparse file, which must match what nbdkit says of the same file.
source ./functions.sh
set -x
requires nbdinfo --version
requires nbdkit --version
export PATH="$top_builddir/nbdserver:$PATH"

img=$tmp/sparse.img
truncate -s 64M $img
printf 'first' | dd of=$img bs=1 seek=1048576 conv=notrunc status=none
dd if=/dev/urandom of=$img bs=64K count=3 seek=160 conv=notrunc status=none
printf 'last' | dd of=$img bs=1 seek=$((64*1024*1024 - 4)) conv=notrunc status=none

timeout 60 virt-bmap-nbd -U - $img --run 'nbdinfo "$uri"' > $tmp/info
cat $tmp/info
grep 'export-size: 67108864' $tmp/info
grep 'is_read_only: true' $tmp/info
grep 'can_multi_conn: true' $tmp/info
grep 'base:allocation' $tmp/info
grep 'block_size_maximum: 33554432' $tmp/info

timeout 60 virt-bmap-nbd -U - $img --run 'nbdinfo --map "$uri"' > $tmp/map
timeout 60 nbdkit -r -U - file $img --run 'nbdinfo --map "$uri"' > $tmp/map.nbdkit
cat $tmp/map
diff -u $tmp/map.nbdkit $tmp/map
# On a filesystem with holes the map is not trivial.
if grep -q hole $tmp/map.nbdkit; then
    test "$(grep -c data $tmp/map)" -ge 3
fi

# Writable exports: --cow and --rw.
timeout 60 virt-bmap-nbd --cow -U - $img \
    --run 'nbdinfo --can write "$uri" && nbdinfo --can multi-conn "$uri"'
cp $img $tmp/rw.img
timeout 60 virt-bmap-nbd --rw -U - $tmp/rw.img \
    --run 'nbdinfo --can write "$uri" && nbdinfo --can trim "$uri" &&
           nbdinfo --can fua "$uri"'
expect_fail timeout 60 virt-bmap-nbd -U - $img --run 'nbdinfo --can write "$uri"'

# Several exports, by name; the first is also the default one.
truncate -s 1M $tmp/a.img
truncate -s 2M $tmp/b.img
timeout 60 virt-bmap-nbd -U - -e alpha -e beta $tmp/a.img $tmp/b.img \
    --run 'nbdinfo --list "$uri"' > $tmp/list
cat $tmp/list
grep 'export="alpha"' $tmp/list
grep 'export="beta"' $tmp/list
grep 'description: b.img' $tmp/list
timeout 60 virt-bmap-nbd -U - -e alpha -e beta $tmp/a.img $tmp/b.img \
    --run 'test "$exportname" = alpha &&
           test "$(nbdinfo --size "$uri")" = 1048576 &&
           test "$(nbdinfo --size "nbd+unix:///beta?socket=$unixsocket")" = 2097152 &&
           test "$(nbdinfo --size "nbd+unix:///?socket=$unixsocket")" = 1048576 &&
           ! nbdinfo --size "nbd+unix:///gamma?socket=$unixsocket"'
# Without -e, several files are named by their basenames.
timeout 60 virt-bmap-nbd -U - $tmp/a.img $tmp/b.img \
    --run 'test "$(nbdinfo --size "nbd+unix:///b.img?socket=$unixsocket")" = 2097152'
expect_fail virt-bmap-nbd -f -U $tmp/sock -e x -e x $tmp/a.img $tmp/b.img
