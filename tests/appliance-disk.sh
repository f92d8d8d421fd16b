# Sourced at the top of the scripts the tests run in the libguestfs
# appliance with guestfish's `debug sh`, which sees device names as the
# kernel gave them.  SCSI disks are probed in parallel, so the
# appliance's own root disk may be sda and the test's disk sdb
# (libguestfs translates the names in its API calls, not in ours).
# Sets disk to the test's first disk: the first one that is not root.
rootdev=$(stat -c %D /)
rootdev="$((0x$rootdev >> 8)):$((0x$rootdev & 0xff))"
disk=
for d in /sys/block/sd*; do
    if [ "$(cat $d/dev)" != "$rootdev" ]; then
        disk=/dev/${d##*/}
        break
    fi
done
[ -n "$disk" ] || { echo "no test disk besides the appliance's"; exit 1; }
echo "test disk: $disk"
