#!/usr/bin/env bash
# A short, reproducible libFuzzer run of the partition table readers
# (./configure --enable-fuzzing): lib/fuzz-image maps each input as a
# disk whose first byte picks the sector size (0 detect, 1: 512,
# 2: 4096).  Seeds made here: MBR with an EBR chain and GPT, at 512
# and 4096-byte sectors, each detected and forced; and the inputs that
# crashed it once (part-fuzz-regressions), replayed first.
# For a long run: keep the seeds (FUZZ_SEEDS=DIR make check TESTS=this),
#   lib/fuzz-image -jobs=2 CORPUS DIR
source ./functions.sh
set -x
fuzzer=$top_builddir/lib/fuzz-image
requires test -x $fuzzer
requires sfdisk --version
requires fdisk --version

seeds=$tmp/seeds
mkdir $seeds $tmp/corpus

# seed NAME SIZEBYTE IMAGE: the image with its sector size byte.
seed ()
{
    { printf "\\$(printf %03o $2)"; cat "$3"; } > $seeds/$1
}

# The same seeds on every run, so the run is reproducible: the disk
# identifiers and GUIDs that sfdisk and fdisk draw at random are given.
u=${TEST_UUID%?}
truncate -s 256K $tmp/mbr.img
sfdisk -q $tmp/mbr.img <<'END'
label: dos
label-id: 0x5eed1234
start=4, size=60, type=83
start=64, size=300, type=5
start=70, size=50, type=83
start=130, size=100, type=7
start=380, size=100, type=83
END
test "$(sfdisk -d $tmp/mbr.img | grep -c start=)" -eq 5

truncate -s 256K $tmp/gpt.img
sfdisk -q $tmp/gpt.img <<'END'
label: gpt
label-id: 6c7a1e34-2c3b-4f1e-9a77-0123456789a0
first-lba: 34
start=34, size=60, uuid=6c7a1e34-2c3b-4f1e-9a77-0123456789a1
start=100, size=100, uuid=6c7a1e34-2c3b-4f1e-9a77-0123456789a2
start=200, size=200, uuid=6c7a1e34-2c3b-4f1e-9a77-0123456789a3
END
test "$(sfdisk -d $tmp/gpt.img | grep -c start=)" -eq 3

truncate -s 2M $tmp/gpt4k.img
printf 'g\nn\n1\n6\n65\nn\n2\n100\n199\nx\ni\n%s\nu\n1\n%s\nu\n2\n%s\nr\nw\n' \
    ${u}0 ${u}1 ${u}2 | fdisk -b 4096 $tmp/gpt4k.img
test "$(fdisk -b 4096 -l $tmp/gpt4k.img | grep -c '^/.*gpt4k.img[12] ')" -eq 2
fdisk -b 4096 -l $tmp/gpt4k.img > $tmp/gpt4k.l
grep -qi "identifier: ${u}0" $tmp/gpt4k.l

truncate -s 2M $tmp/mbr4k.img
printf 'o\nn\np\n1\n4\n63\nn\ne\n2\n64\n300\nn\nl\n70\n119\nn\nl\n130\n179\nx\ni\n0x5eed1234\nr\nw\n' |
    fdisk -b 4096 $tmp/mbr4k.img
test "$(fdisk -b 4096 -l $tmp/mbr4k.img | grep -c '^/.*mbr4k.img[1256] ')" -eq 4

for t in mbr gpt; do
    seed $t-detect 0 $tmp/$t.img
    seed $t-512 1 $tmp/$t.img
    seed ${t}4k-detect 0 $tmp/${t}4k.img
    seed ${t}4k-4096 2 $tmp/${t}4k.img
done

# The inputs that once crashed or hung a reader, each alone.
if [ -n "${FUZZ_SEEDS:-}" ]; then
    mkdir -p "$FUZZ_SEEDS"
    cp $seeds/* "$FUZZ_SEEDS"
fi

for f in "$srcdir"/part-fuzz-regressions/*; do
    [ -f "$f" ] || continue
    $fuzzer -error_exitcode=1 -timeout=10 -rss_limit_mb=2048 "$f"
done

timeout 600 $fuzzer -error_exitcode=1 -seed=1 -runs=4000 -max_len=2097153 \
    -timeout=10 -rss_limit_mb=2048 \
    $tmp/corpus $seeds
