#!/usr/bin/env bash
# The map is written atomically (issue 19, common/atomic-file.c): a
# virt-bmap killed while it writes a big map leaves the old map intact;
# SIGTERM, SIGINT and SIGHUP remove the temporary file, kill -9 leaves
# it to the next run, which removes it.  strace delivers each signal
# at a chosen system call, so the point of death is exact, not timed.
source ./functions.sh
set -x
set -o pipefail
requires strace -V
requires strace -f -o /dev/null true
requires mkfs.ext4 -V

# LeakSanitizer cannot run under ptrace: leaks are other tests' job.
export ASAN_OPTIONS="$ASAN_OPTIONS:detect_leaks=0"

nfiles=20000
img=$tmp/disk.img
map=$tmp/out/disk.bmap
mkdir $tmp/out $tmp/files
python3 - $tmp/files $nfiles <<'EOF'
import os, sys
top, n = sys.argv[1], int(sys.argv[2])
for i in range(n):
    d = f"{top}/d{i // 100}"
    os.makedirs(d, exist_ok=True)
    with open(f"{d}/f{i}", "w") as f:
        f.write("x" * (i * 37 % 3000))
EOF
$MKFS_EXT4 -d $tmp/files $img 256M
rm -r $tmp/files

# only_map: the folder holds the map and nothing else.
only_map ()
{
    ls -A $tmp/out > $tmp/ls
    echo disk.bmap | diff -u - $tmp/ls
}

# check_map: a whole map, every file in it (the oracle is what was
# written above: nfiles files under /dN/).
check_map ()
{
    test "$(sqlite3 $map 'PRAGMA integrity_check')" = ok
    n=$(sqlite3 $map "SELECT count(*) FROM objects
                      WHERE kind = 'f' AND path GLOB '/d*/f*'")
    test "$n" -eq $nfiles
}

# run_killed SIG SYSCALL N: virt-bmap killed by SIG at its Nth
# SYSCALL; its exit status must say so.
run_killed ()
{
    local sig=$1 call=$2 n=$3 r=0 want dfl=
    want=$((128 + $(kill -l $sig)))
    [ $sig = KILL ] || dfl=--default-signal=$sig
    # Default disposition: a job started in the background by a
    # non-interactive shell inherits SIGINT ignored, and virt-bmap
    # rightly keeps an ignored signal ignored.
    env $dfl \
        strace -f -qq -o /dev/null -e trace=$call \
           -e inject=$call:signal=$sig:when=$n \
           virt-bmap -q -o $map $img || r=$?
    test $r -eq $want || fail "killed by $sig at $call #$n: exit $r, not $want"
}

# The first map, with the umask's mode like any new file.
(umask 027 && virt-bmap -q -o $map $img)
test "$(stat -c %a $map)" = 640
check_map
only_map
cp $map $tmp/old.bmap

# How many pwrite64 the map store makes: kill at half of them.  strace
# counts an injection's calls per thread and the store writes from
# several threads, so half of the busiest thread's.  Also the order
# that makes it durable: the file synced, renamed, then its folder
# synced.
strace -f -qq -o $tmp/trace -e trace=pwrite64,fsync,rename,renameat,renameat2 \
       virt-bmap -q -o $map $img
writes=$(awk '/pwrite64\(/ { n[$1]++ }
              END { for (t in n) if (n[t] > m) m = n[t]; print m + 0 }' \
             $tmp/trace)
test $writes -ge 10
grep -oE '(fsync|rename[a-z0-9]*)\(' $tmp/trace | tail -3 > $tmp/order
printf 'fsync(\nrenameat(\nfsync(\n' | diff -u - $tmp/order
cp $map $tmp/old.bmap

# kill -9 half-way through the writes, and again with the map complete
# and synced but not yet renamed: the old map either way, and the
# temporary left behind (the proof that the kill came mid-write).
for point in pwrite64:$((writes / 2)) rename,renameat,renameat2:1; do
    run_killed KILL ${point%:*} ${point##*:}
    cmp $map $tmp/old.bmap
    ls $tmp/out > $tmp/ls
    test "$(grep -c '^disk\.bmap\.tmp-vbm-[0-9]*$' $tmp/ls)" -eq 1
done
# The next run removes the dead run's temporaries and writes a new map.
virt-bmap -q -o $map $img
only_map
check_map
cp $map $tmp/old.bmap

# A signal that ends a run: the old map, no temporary at all.
for sig in TERM INT HUP; do
    run_killed $sig pwrite64 $((writes / 2))
    cmp $map $tmp/old.bmap
    only_map
done

# export writes through an unnamed O_TMPFILE where the folder's
# filesystem has one: nothing left by kill -9 at all.  Else, a named
# temporary the next export removes.
virt-bmap export $map --format tsv -o $tmp/out/x.tsv
cp $tmp/out/x.tsv $tmp/x.tsv
r=0
strace -f -qq -o /dev/null -e trace=write \
       -e inject=write:signal=KILL:when=3 \
       virt-bmap export $map --format tsv -o $tmp/out/x.tsv || r=$?
test $r -eq 137
cmp $tmp/out/x.tsv $tmp/x.tsv
if python3 -c 'import os, sys; os.close(os.open(sys.argv[1], os.O_TMPFILE | os.O_WRONLY))' $tmp/out; then
    test -z "$(ls -A $tmp/out | grep -v '^disk\.bmap$\|^x\.tsv$')"
fi
virt-bmap export $map --format tsv -o $tmp/out/x.tsv
cmp $tmp/out/x.tsv $tmp/x.tsv
test -z "$(ls -A $tmp/out | grep -v '^disk\.bmap$\|^x\.tsv$')"

# A device or a FIFO as the output is written in place, never renamed
# over (a rename would turn /dev/null into a file); a map, which SQLite
# must open by name, refuses one.
mkfifo $tmp/fifo
cat $tmp/fifo > $tmp/from-fifo &
virt-bmap export $map --format tsv -o $tmp/fifo
wait
cmp $tmp/from-fifo $tmp/x.tsv
test -p $tmp/fifo
virt-bmap export $map --format tsv -o /dev/null
test -c /dev/null
expect_fail virt-bmap -q -o /dev/null $img 2>$tmp/err
grep -q 'not a device' $tmp/err
test -c /dev/null
