#!/usr/bin/env bash
# The installed library exports exactly the symbols listed in
# lib/libvirtbmap.syms, each at the version of its node (VIRTBMAP_1.0,
# VIRTBMAP_1.1 ...), and those are
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

# What the script lists: name@@node for the names between each node's
# "global:" and its end.
awk '/^VIRTBMAP_[0-9.]+ *\{/ { node = $1; sub(/ *\{.*/, "", node) }
     /global:/ { on = 1; next }
     /local:|^}/ { on = 0 }
     on { gsub(/[ \t;]/, ""); if ($0 != "") print $0 "@@" node }' \
    "$top_srcdir/lib/libvirtbmap.syms" | sort > "$tmp/script"
test -s "$tmp/script"
grep -q '@@VIRTBMAP_1\.0$' "$tmp/script"

# What the library defines, name@@version; the version nodes
# themselves are the only symbols without a version.
nm -D --defined-only "$so" | awk '{ print $3 }' > "$tmp/nm"
cat "$tmp/nm"
grep -qx VIRTBMAP_1.0 "$tmp/nm"
grep -v '^VIRTBMAP_[0-9.]*$' "$tmp/nm" | sort > "$tmp/versioned"
# Each symbol at the version of the node that lists it.
diff -u "$tmp/script" "$tmp/versioned"
sed 's/@@.*//' "$tmp/versioned" | sort > "$tmp/exported"

# What the header declares: gcc writes every function prototype it
# has read, with the file it came from.
printf '#include <virtbmap.h>\n' > "$tmp/h.c"
gcc -fsyntax-only -I"$(dirname "$header")" -aux-info "$tmp/aux" "$tmp/h.c"
grep -F "/virtbmap.h:" "$tmp/aux" |
    sed -E 's/ \(.*//; s/.*[ *]//' | sort > "$tmp/declared"
test -s "$tmp/declared"
diff -u "$tmp/declared" "$tmp/exported"
