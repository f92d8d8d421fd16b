#!/usr/bin/env bash
# Running as a daemon: forks into the background, writes the pidfile
# when ready, serves clients one after another (as libguestfs
# connects twice), stops on SIGTERM even with requests in flight and
# removes its socket and pidfile.  --exit-with-parent.
source ./functions.sh
set -x
requires nbdinfo --version
requires fio --enghelp=nbd
export PATH="$top_builddir/nbdserver:$PATH"

img=$tmp/disk.img
truncate -s 256M $img
dd if=/dev/urandom of=$img bs=1M count=16 conv=notrunc status=none

# wait_for CMD...: poll up to 30 s for CMD to succeed.
wait_for () {
    local i
    for i in $(seq 300); do "$@" && return 0; sleep 0.1; done
    return 1
}
# gone PID: no such process (a zombie counts as gone: the daemon's
# new parent may be slow to reap it).
gone () {
    local s
    s=$(ps -o stat= -p $1) || return 0
    [[ $s == Z* ]]
}

sock=$tmp/sock pidfile=$tmp/pid
virt-bmap-nbd -U $sock -P $pidfile $img   # returns once forked
wait_for test -s $pidfile
pid=$(cat $pidfile)
cleanup_fn kill -9 $pid
test -S $sock
uri="nbd+unix:///?socket=$sock"
test "$(timeout 60 nbdinfo --size "$uri")" = 268435456
test "$(timeout 60 nbdinfo --size "$uri")" = 268435456
kill -0 $pid

# SIGTERM while fio keeps requests in flight.
timeout 120 fio --name=busy --ioengine=nbd --uri="$uri" --rw=randread \
    --bs=64k --iodepth=16 --time_based --runtime=60 \
    --output=$tmp/fio.out &
fio=$!
sleep 2
kill -TERM $pid
wait_for gone $pid
test ! -e $sock
test ! -e $pidfile
# fio sees the connection end (an error), well before its 60 s: not a
# clean end of its run (0) nor timeout's (124).
r=0; wait $fio || r=$?
echo "fio exit status $r"
test $r -ne 0
test $r -ne 124

# --exit-with-parent: the server goes when the shell that ran it does.
sock=$tmp/sock2 pidfile=$tmp/pid2
pid=$(timeout 60 bash -c "
    virt-bmap-nbd --exit-with-parent -U $sock -P $pidfile $img &
    for i in \$(seq 300); do test -s $pidfile && break; sleep 0.1; done
    nbdinfo --size 'nbd+unix:///?socket=$sock' >&2
    cat $pidfile")
test -n "$pid"
cleanup_fn kill -9 $pid
wait_for gone $pid
test ! -e $sock
test ! -e $pidfile
