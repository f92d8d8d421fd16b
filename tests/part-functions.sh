# Helpers of the partition table tests (test-part-*.sh), sourced after
# functions.sh.  Partition tables are built by sfdisk, which with
# sfdisk --json is the oracle; hostile edits are made byte by byte.

# map IMG: maps IMG into $tmp/map.bmap, with its warnings in
# $tmp/warnings and its tsv export in $tmp/map.tsv.
map ()
{
    virt-bmap -o "$tmp/map.bmap" "$1" 2> "$tmp/stderr"
    cat "$tmp/stderr" >&2
    grep 'warning:' "$tmp/stderr" > "$tmp/warnings" || :
    virt-bmap export "$tmp/map.bmap" --format tsv -o "$tmp/map.tsv"
}

# oracle_parts IMG: "device start end" (bytes) of each partition per
# sfdisk --json, sorted.
oracle_parts ()
{
    sfdisk --json "$1" |
        jq -r --arg img "$1" '.partitiontable.partitions[] |
            "/dev/sda\(.node | ltrimstr($img)) \(.start * 512) \((.start + .size) * 512)"' |
        sort
}

# map_parts: the same for the 'p' objects of the map.
map_parts ()
{
    grep -v '^#' "$tmp/map.tsv" |
        awk -F'\t' '$4 == "p" { print $5, $2, $3 }' | sort
}

# part_field DEV start|end: of a partition, from $tmp/expected.
part_field ()
{
    awk -v dev="$1" -v f="$2" '$1 == dev { print (f == "start" ? $2 : $3) }' \
        "$tmp/expected"
}

# children DEVICE [PARTITION...]: "start end kind label" of the
# children of DEVICE (its 'm' and 'u' objects and the partitions
# named), sorted by start.
children ()
{
    local dev=$1
    shift
    grep -v '^#' "$tmp/map.tsv" |
        awk -F'\t' -v dev="$dev" -v parts=" $* " '
            ($4 == "m" || $4 == "u") && $5 == dev { print $2, $3, $4, $6 }
            $4 == "p" && index(parts, " " $5 " ") { print $2, $3, $4, $5 }' |
        sort -n -k1,1 -k2,2
}

# tiles START END < children: they cover [START, END) exactly.  With
# --overlaps, partitions may overlap each other, but gaps ('u') must
# still overlap nothing.
tiles ()
{
    local overlaps=0
    if [ "$1" = --overlaps ]; then overlaps=1; shift; fi
    awk -v start="$1" -v end="$2" -v overlaps=$overlaps '
        BEGIN { pos = start; reach = "" }
        $1 > pos || ($1 < pos && (!overlaps || $3 == "u" || reach == "u")) {
            print "not tiled at " pos ": " $0 > "/dev/stderr"; bad = 1; exit
        }
        $2 > pos { pos = $2; reach = $3 }
        END {
            if (!bad && pos != end) {
                print "tiling ends at " pos ", not " end > "/dev/stderr"; bad = 1
            }
            exit bad
        }'
}

# get_le32 FILE OFFSET, put_le32 FILE OFFSET VALUE: little-endian
# 32 bit fields, whatever the host.
get_le32 ()
{
    od -An -tu1 -j "$2" -N4 "$1" |
        awk '{ print $1 + $2 * 256 + $3 * 65536 + $4 * 16777216 }'
}
put_le32 ()
{
    printf "$(printf '\\%03o\\%03o\\%03o\\%03o' \
        $(( $3 & 255 )) $(( $3 >> 8 & 255 )) \
        $(( $3 >> 16 & 255 )) $(( $3 >> 24 & 255 )))" |
        dd of="$1" bs=1 seek="$2" conv=notrunc status=none
}

# crc32 < DATA: its CRC-32 as 4 little-endian bytes, from the gzip
# trailer.
crc32 () { gzip -c | tail -c 8 | head -c 4; }

# put_le64 FILE OFFSET VALUE (VALUE < 2^63)
put_le64 ()
{
    put_le32 "$1" "$2" $(( $3 & 0xffffffff ))
    put_le32 "$1" $(( $2 + 4 )) $(( $3 >> 32 ))
}

# bytes FILE OFFSET COUNT: a byte range of FILE on stdout.
bytes ()
{
    dd if="$1" bs=4096 iflag=skip_bytes,count_bytes skip="$2" count="$3" \
       status=none
}

# flip FILE OFFSET: inverts one byte.
flip ()
{
    local b
    b=$(od -An -tu1 -j "$2" -N1 "$1")
    printf "$(printf '\\%03o' $(( b ^ 255 )))" |
        dd of="$1" bs=1 seek="$2" conv=notrunc status=none
}

# put_ext4 IMG N: an ext4 filesystem filling partition N of IMG.
put_ext4 ()
{
    local start size
    read -r start size < <(sfdisk --json "$1" |
        jq -r --arg node "$1$2" '.partitiontable.partitions[] |
            select(.node == $node) | "\(.start) \(.size)"')
    rm -f "$tmp/fs.img"
    $MKFS_EXT4 "$tmp/fs.img" $(( size / 2 ))k
    dd if="$tmp/fs.img" of="$1" bs=512 seek="$start" conv=notrunc status=none
}
