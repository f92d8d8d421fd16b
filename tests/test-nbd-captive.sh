#!/usr/bin/env bash
# --run: the variables the command sees, and the exit status, which
# must be what nbdkit gives for the same command.
source ./functions.sh
set -x
requires nbdkit --version
requires nbdinfo --version
export PATH="$top_builddir/nbdserver:$PATH"

img=$tmp/disk.img
truncate -s 1M $img

status () { local r=0; "$@" || r=$?; echo $r; }

for cmd in 'true' 'exit 3' 'kill -9 $$' 'kill -TERM $$' 'exit 255'; do
    ours=$(status virt-bmap-nbd -U - $img --run "$cmd")
    ref=$(status nbdkit -U - file $img --run "$cmd")
    test "$ours" = "$ref" || fail "--run '$cmd': status $ours, nbdkit $ref"
done
test "$(status virt-bmap-nbd -U - $img --run 'kill -9 $$')" = 137

# The variables, and the socket exists while the command runs.
timeout 60 virt-bmap-nbd -U - $img --run '
    echo "uri=$uri"; echo "nbd=$nbd"; echo "unixsocket=$unixsocket"
    echo "port=$port"; echo "exportname=$exportname"
    test -S "$unixsocket" && nbdinfo --size "$uri"' > $tmp/vars
cat $tmp/vars
sock=$(sed -n 's/^unixsocket=//p' $tmp/vars)
grep "^uri=nbd+unix:///?socket=$sock\$" $tmp/vars
grep "^nbd=nbd+unix:///?socket=$sock\$" $tmp/vars
grep '^port=$' $tmp/vars
grep '^exportname=$' $tmp/vars
grep '^1048576$' $tmp/vars
# Socket and its private directory are gone.
test ! -e "$sock"
test ! -e "$(dirname "$sock")"

timeout 60 virt-bmap-nbd -U - -e 'my disk' $img --run 'echo "$uri"; echo "$exportname"
    nbdinfo --size "$uri"' > $tmp/vars
grep '^nbd+unix:///my%20disk?socket=' $tmp/vars
grep '^my disk$' $tmp/vars
grep '^1048576$' $tmp/vars

# TCP on any free port.
timeout 60 virt-bmap-nbd -p 0 $img --run 'echo "$port"; echo "$uri"
    nbdinfo --size "$uri"' > $tmp/vars
port=$(head -1 $tmp/vars)
test "$port" -gt 0
grep "^nbd://localhost:$port/\$" $tmp/vars
grep '^1048576$' $tmp/vars

# The server fails to start: status 1, the command never runs.
touch $tmp/notasocket
test "$(status virt-bmap-nbd -U $tmp/notasocket $img --run "touch $tmp/ran")" = 1
test ! -e $tmp/ran
