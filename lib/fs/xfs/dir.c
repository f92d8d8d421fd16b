/* Directory entries, from the bytes of a shortform directory (in the
 * inode) or of one directory data or block-format block.  Pure
 * parsing, every length checked against the buffer: tests/test-xfs-dir
 * runs it alone.
 */
#include <config.h>

#include <stddef.h>

#include "xfs-map.h"

#define XD2B 0x58443242         /* block format, v4 */
#define XDB3 0x58444233         /* block format, v5 */
#define XD2D 0x58443244         /* data block, v4 */
#define XDD3 0x58444433         /* data block, v5 */
#define FREETAG 0xffff

static bool
dot_or_dotdot (const unsigned char *name, unsigned len)
{
  return (len == 1 && name[0] == '.') ||
    (len == 2 && name[0] == '.' && name[1] == '.');
}

int
xfs_dir_sf (const unsigned char *p, size_t len, bool ftype,
            xfs_dirent_fn fn, void *opaque, const char **why)
{
  unsigned count, i8, isize, i;
  size_t off;

  if (len < 2) {
    *why = "shortform header truncated";
    return 0;
  }
  count = p[0];
  i8 = p[1];
  isize = i8 ? 8 : 4;
  off = 2 + isize;              /* the parent's inode number */
  if (off > len) {
    *why = "shortform header truncated";
    return 0;
  }
  for (i = 0; i < count; i++) {
    unsigned namelen;
    const unsigned char *name;
    uint64_t ino;

    if (off + 3 > len) {
      *why = "shortform entry past the end of the fork";
      return 0;
    }
    namelen = p[off];
    name = p + off + 3;
    off += 3 + namelen + (ftype ? 1 : 0);
    if (namelen == 0 || off + isize > len) {
      *why = namelen ? "shortform entry past the end of the fork"
        : "shortform entry with an empty name";
      return 0;
    }
    ino = isize == 8 ? xfs_be64 (p + off) : xfs_be32 (p + off);
    off += isize;
    if (fn (opaque, ino, name, namelen) == -1)
      return -1;
  }
  return 0;
}

int
xfs_dir_block (const unsigned char *p, size_t len, bool crc, bool ftype,
               xfs_dirent_fn fn, void *opaque, const char **why)
{
  const size_t hdr = crc ? 64 : 16;
  size_t off, end = len;
  uint32_t magic;

  if (len < hdr + 8)
    return 0;
  magic = xfs_be32 (p);
  if (magic == (crc ? XDB3 : XD2B)) {
    /* The block format's leaf entries and tail end the block. */
    uint64_t count = xfs_be32 (p + len - 8);

    if (count > (len - hdr - 8) / 8) {
      *why = "block directory tail count too big";
      return 0;
    }
    end = len - 8 - count * 8;
  }
  else if (magic != (crc ? XDD3 : XD2D))
    return 0;

  for (off = hdr; off + 8 <= end;) {
    unsigned namelen, size;

    if (xfs_be16 (p + off) == FREETAG) {
      size = xfs_be16 (p + off + 2);
      if (size < 8 || size % 8 || size > end - off) {
        *why = "bad unused entry length";
        return 0;
      }
      off += size;
      continue;
    }
    namelen = p[off + 8];
    /* inumber, namelen, name, ftype, tag; 8-byte aligned. */
    size = (8 + 1 + namelen + (ftype ? 1 : 0) + 2 + 7) & ~7u;
    if (namelen == 0 || size > end - off) {
      *why = namelen ? "entry past the end of the block"
        : "entry with an empty name";
      return 0;
    }
    if (!dot_or_dotdot (p + off + 9, namelen) &&
        fn (opaque, xfs_be64 (p + off), p + off + 9, namelen) == -1)
      return -1;
    off += size;
  }
  return 0;
}
