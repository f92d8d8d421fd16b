#!/usr/bin/env bash
# NTFS resident data over the update sequence: a value crossing the end
# of a 512-byte stride of its MFT record has two of its bytes in the
# record's update sequence array (the stride's last two bytes hold the
# update sequence number on disk).  Many small files of assorted sizes
# (ntfs-helper populate); every file, resident ones included, rebuilt
# from its mapped ranges and compared with ntfscat (ntfs-check-map).
source ./functions.sh
set -x
requires_ntfs

img=$tmp/ntfs.img
make_ntfs $img 16M
./ntfs-helper populate $img 400

virt-bmap -o $tmp/ntfs.bmap $img 2> $tmp/warnings
cat $tmp/warnings
test ! -s $tmp/warnings
$srcdir/ntfs-check-map $img $tmp/ntfs.bmap /dev/sda
virt-bmap export $tmp/ntfs.bmap --format tsv > $tmp/map.tsv

# Not vacuous: resident files crossing a stride's end are mapped in
# three pieces or more (before, the two bytes in the array, after);
# those of 512 bytes or more must cross (a 512-byte window of a 1 KiB
# record holds a stride's end).
awk -F'\t' '$4 == "f" && $8 != "-" && $9 ~ /inline/ { n[$6]++; size[$6] = $10 }
    END { for (p in n) { if (n[p] >= 3) crossed++
                         if (size[p] >= 512 && n[p] < 3) bad++ }
          print crossed + 0, bad + 0; exit bad || crossed < 100 }' $tmp/map.tsv
