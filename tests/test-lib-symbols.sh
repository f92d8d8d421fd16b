#!/usr/bin/env bash
# The installed library exports exactly the symbols listed in
# lib/libvirtbmap.syms, each at version VIRTBMAP_1.0, and those are
# exactly the functions its installed header declares (as the compiler
# reads the header, with gcc -aux-info).
source ./functions.sh
set -x
set -o pipefail
requires nm --version
requires gcc --version

make -C "$top_builddir/lib" install DESTDIR="$tmp/inst" >/dev/null
so=$(find "$tmp/inst" -name 'libvirtbmap.so.*.*.*' -type f)
header=$(find "$tmp/inst" -name virtbmap.h)
test -n "$so" && test -n "$header"

# What the script lists: the names between "global:" and "local:".
sed -n '/global:/,/local:/p' "$top_srcdir/lib/libvirtbmap.syms" |
    grep -v 'global:\|local:' | tr -d ' \t;' | grep . | sort > "$tmp/script"
test -s "$tmp/script"

# What the library defines, name@@version.
nm -D --defined-only "$so" | awk '{ print $3 }' > "$tmp/nm"
cat "$tmp/nm"
# The version node itself is the only symbol without a version.
grep -qx VIRTBMAP_1.0 "$tmp/nm"
grep -vx VIRTBMAP_1.0 "$tmp/nm" > "$tmp/versioned"
if grep -v '@@VIRTBMAP_1\.0$' "$tmp/versioned"; then
    echo "$0: symbols above are not at VIRTBMAP_1.0"
    exit 1
fi
sed 's/@@.*//' "$tmp/versioned" | sort > "$tmp/exported"
diff -u "$tmp/script" "$tmp/exported"

# What the header declares: gcc writes every function prototype it
# has read, with the file it came from.
printf '#include <virtbmap.h>\n' > "$tmp/h.c"
gcc -fsyntax-only -I"$(dirname "$header")" -aux-info "$tmp/aux" "$tmp/h.c"
grep -F "/virtbmap.h:" "$tmp/aux" |
    sed -E 's/ \(.*//; s/.*[ *]//' | sort > "$tmp/declared"
test -s "$tmp/declared"
diff -u "$tmp/declared" "$tmp/exported"
