#!/usr/bin/env bash
# query by offset and by path; the bytes at the mapped ranges are the
# file's bytes.
source ./functions.sh
set -x
requires debugfs -V

"$srcdir/make-sample-image" "$tmp/disk.img"
virt-bmap -q -o "$tmp/disk.bmap" "$tmp/disk.img"
part=$(( 2048 * 512 ))

# The oracle: debugfs reads the file from the filesystem.
debugfs -R "cat /usr/share/doc/numbers.txt" "$tmp/disk.img?offset=$part" \
    > "$tmp/numbers" 2>/dev/null
test "$(stat -c %s "$tmp/numbers")" -gt 1000000

virt-bmap query "$tmp/disk.bmap" --path /dev/sda1:/usr/share/doc/numbers.txt \
    > "$tmp/extents"
test "$(wc -l < "$tmp/extents")" -ge 1
# Columns: disk start end kind device path inode offset flags ...
while IFS=$'\t' read -r disk start end kind dev path ino off flags rest; do
    test "$kind" = f
    test "$off" != -
    # Extents are whole blocks: compare up to the end of the file.
    len=$((end - start))
    size=$(stat -c %s "$tmp/numbers")
    if [ $((off + len)) -gt $size ]; then len=$((size - off)); fi
    cmp <(dd if="$tmp/disk.img" bs=4096 iflag=skip_bytes,count_bytes \
             skip=$start count=$len status=none) \
        <(dd if="$tmp/numbers" bs=4096 iflag=skip_bytes,count_bytes \
             skip=$off count=$len status=none)
done < "$tmp/extents"

# A byte in the middle of the first extent: the disk, the partition,
# then the file with the offset inside it.
IFS=$'\t' read -r _ start end _ _ _ ino off _ < "$tmp/extents"
q=$((start + 5000))
virt-bmap query "$tmp/disk.bmap" $q > "$tmp/hits"
cat "$tmp/hits"
test "$(cut -f3 "$tmp/hits" | tr -d '\n')" = vpf
grep -qP "^$q\t0\tf\t/dev/sda1\t/usr/share/doc/numbers.txt\t$ino\t$((off + 5000))\t" "$tmp/hits"

# Cross-check the block with debugfs icheck/ncheck (independent of us).
bs=$(dumpe2fs -h "$tmp/disk.img?offset=$part" 2>/dev/null | awk '/^Block size:/ { print $3 }')
blk=$(( (q - part) / bs ))
debugfs -R "icheck $blk" "$tmp/disk.img?offset=$part" 2>/dev/null | grep_q -w "$ino"

# Hex and suffixed offsets; an offset beyond the disk fails.
virt-bmap query "$tmp/disk.bmap" 0x0 | grep_q -P '^0\t0\tv\t/dev/sda\t'
virt-bmap query "$tmp/disk.bmap" 1M | grep_q -P '\tp\t/dev/sda1\t'
expect_fail virt-bmap query "$tmp/disk.bmap" 1T
expect_fail virt-bmap query "$tmp/disk.bmap" --path /dev/sda1:/no/such/file
expect_fail virt-bmap query "$tmp/disk.bmap" bogus
