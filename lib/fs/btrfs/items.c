/* What the trees hold, item by item: chunks and device items (chunk
 * tree), the trees and subvolumes (root tree), what is allocated
 * (extent tree), and inodes, names and file extents (fs trees).
 * Items too short for what their type says are skipped, counted.
 */
#include <config.h>

#include <inttypes.h>
#include <string.h>

#include "btrfs-map.h"

/* The biggest extent btrfs makes is 128 MiB: a bigger one is damage
 * (and would make the walk over its pieces long).
 */
#define MAX_EXTENT (UINT64_C (128) << 20)

static int
short_item (struct btrfs_map *m, const struct bt_key *k, uint64_t leaf)
{
  if (m->bad_items++ < 10)
    bt_warn (m, "btrfs leaf %" PRIu64 ": item (%" PRIu64 " %u %" PRIu64
             ") malformed: skipped", leaf, k->objectid, k->type, k->offset);
  return 0;
}

/* ---- Chunk tree. ---- */

int
bt_chunk_item (struct btrfs_map *m, void *opaque, const struct bt_key *k,
               const unsigned char *d, uint32_t size, uint64_t leaf,
               uint32_t off)
{
  struct bt_chunk c;
  const char *why;
  size_t i;
  int r;

  (void) opaque;
  (void) off;
  if (k->type == BT_DEV_ITEM) {
    struct bt_dev dev = { 0 };

    if (size < BT_DEV_ITEM_SIZE)
      return short_item (m, k, leaf);
    dev.devid = vbm_le64 (d);
    dev.total_bytes = vbm_le64 (d + 8);
    for (i = 0; i < m->devs.len; i++)
      if (m->devs.ptr[i].devid == dev.devid) {
        m->devs.ptr[i].total_bytes = dev.total_bytes;
        return 0;
      }
    /* A device not given to us: its items say what is missing. */
    if (bt_dev_vector_append (&m->devs, dev) == -1)
      return bt_nomem (m);
    return 0;
  }
  if (k->type != BT_CHUNK_ITEM)
    return 0;
  if (!bt_chunk_parse (&m->chunks, k->offset, d, size, &c, &why)) {
    if (why == NULL)
      return bt_nomem (m);
    if (m->bad_items++ < 10)
      bt_warn (m, "btrfs chunk %" PRIu64 ": %s: ignored", k->offset, why);
    return 0;
  }
  r = bt_chunk_add (&m->chunks, &c);
  if (r == -1)
    return bt_nomem (m);
  if (r == 0 && m->bad_items++ < 10)
    bt_warn (m, "btrfs chunk %" PRIu64 " overlaps another: ignored",
             k->offset);
  return 0;
}

/* ---- Root tree. ---- */

static bool
fs_tree_id (uint64_t id)
{
  return id == BT_FS_TREE || (id >= BT_FIRST_FREE && id <= BT_LAST_FREE);
}

int
bt_root_item (struct btrfs_map *m, void *opaque, const struct bt_key *k,
              const unsigned char *d, uint32_t size, uint64_t leaf,
              uint32_t off)
{
  struct bt_subvol *last = m->subvols.len
    ? &m->subvols.ptr[m->subvols.len - 1] : NULL;

  (void) opaque;
  (void) off;
  if (k->type == BT_ROOT_ITEM) {
    struct bt_subvol s = { .id = k->objectid };

    if (size < 239)
      return short_item (m, k, leaf);
    /* Keys are in order: a second item of the same tree is a reloc
     * tree's (its offset names the subvolume).
     */
    if (last && last->id == s.id && s.id != BT_TREE_RELOC)
      return 0;
    s.root_dirid = vbm_le64 (d + 168);
    s.bytenr = vbm_le64 (d + 176);
    s.refs = vbm_le32 (d + 216);
    s.level = d[238];
    s.fs = fs_tree_id (s.id);
    if (bt_subvol_vector_append (&m->subvols, s) == -1)
      return bt_nomem (m);
    return 0;
  }
  if (k->type == BT_ROOT_BACKREF) {
    uint16_t len;

    if (last == NULL || last->id != k->objectid || !last->fs)
      return 0;
    if (size < 18 || (len = vbm_le16 (d + 16)) > size - 18 || len == 0)
      return short_item (m, k, leaf);
    if (last->has_backref)
      return 0;
    if (m->pool.len > UINT32_MAX - len)
      return bt_nomem (m);
    if (bt_byte_vector_reserve (&m->pool, len) == -1)
      return bt_nomem (m);
    last->parent = k->offset;
    last->dirid = vbm_le64 (d);
    last->name_off = m->pool.len;
    last->name_len = len;
    last->has_backref = true;
    memcpy (m->pool.ptr + m->pool.len, d + 18, len);
    m->pool.len += len;
  }
  return 0;
}

/* ---- Extent tree. ---- */

int
bt_extent_item (struct btrfs_map *m, void *opaque, const struct bt_key *k,
                const unsigned char *d, uint32_t size, uint64_t leaf,
                uint32_t off)
{
  struct bt_range r = { .start = k->objectid };
  struct bt_range *last;

  (void) opaque;
  (void) d;
  (void) size;
  (void) off;
  if (k->type == BT_EXTENT_ITEM)
    r.len = k->offset;
  else if (k->type == BT_METADATA_ITEM)
    r.len = m->ns;
  else
    return 0;
  if (r.len == 0 || r.len > MAX_EXTENT || r.start + r.len < r.start)
    return short_item (m, k, leaf);
  last = m->allocated.len ? &m->allocated.ptr[m->allocated.len - 1] : NULL;
  if (last && last->start + last->len == r.start) {
    last->len += r.len;
    return 0;
  }
  if (bt_range_vector_append (&m->allocated, r) == -1)
    return bt_nomem (m);
  return 0;
}

/* ---- Free space tree. ---- */

static int
add_range (struct btrfs_map *m, bt_range_vector *v, uint64_t start,
           uint64_t len)
{
  struct bt_range r = { .start = start, .len = len };

  if (v->len && v->ptr[v->len - 1].start + v->ptr[v->len - 1].len == start) {
    v->ptr[v->len - 1].len += len;
    return 0;
  }
  return bt_range_vector_append (v, r) == -1 ? bt_nomem (m) : 0;
}

/* FREE_SPACE_INFO (block group), FREE_SPACE_EXTENT (a free range),
 * FREE_SPACE_BITMAP (a bit per sector, set if free, LSB first).
 */
int
bt_fst_item (struct btrfs_map *m, void *opaque, const struct bt_key *k,
             const unsigned char *d, uint32_t size, uint64_t leaf,
             uint32_t off)
{
  uint64_t i, n;

  (void) opaque;
  (void) off;
  if (k->objectid + k->offset < k->objectid)
    return short_item (m, k, leaf);
  switch (k->type) {
  case BT_FREE_SPACE_INFO: {
    /* One per block group, not merged: each names a chunk. */
    struct bt_range g = { .start = k->objectid, .len = k->offset };

    return bt_range_vector_append (&m->fst_groups, g) == -1
      ? bt_nomem (m) : 0;
  }
  case BT_FREE_SPACE_EXTENT:
    return add_range (m, &m->fst_free, k->objectid, k->offset);
  case BT_FREE_SPACE_BITMAP:
    n = k->offset / m->ss;
    if (n > (uint64_t) size * 8)
      return short_item (m, k, leaf);
    for (i = 0; i < n; i++)
      if ((d[i / 8] >> (i % 8)) & 1 &&
          add_range (m, &m->fst_free, k->objectid + i * m->ss, m->ss) == -1)
        return -1;
    return 0;
  default:
    return 0;
  }
}

/* ---- Fs trees. ---- */

static int
add_name (struct btrfs_map *m, uint32_t sv, uint64_t ino, uint64_t parent,
          const unsigned char *name, uint16_t len)
{
  struct bt_name n = { .sv = sv, .ino = ino, .parent = parent,
                       .off = m->pool.len, .len = len };

  if (m->pool.len > UINT32_MAX - len ||
      bt_byte_vector_reserve (&m->pool, len) == -1 ||
      bt_name_vector_append (&m->names, n) == -1)
    return bt_nomem (m);
  memcpy (m->pool.ptr + m->pool.len, name, len);
  m->pool.len += len;
  return 0;
}

/* INODE_REF: (index, name length, name)...; INODE_EXTREF: (parent,
 * index, name length, name)...
 */
static int
refs (struct btrfs_map *m, uint32_t sv, const struct bt_key *k,
      const unsigned char *d, uint32_t size, uint64_t leaf)
{
  const bool ext = k->type == BT_INODE_EXTREF;
  const uint32_t hdr = ext ? 18 : 10;
  uint32_t pos = 0;

  while (pos < size) {
    uint64_t parent;
    uint16_t len;

    if (size - pos < hdr ||
        (len = vbm_le16 (d + pos + hdr - 2)) > size - pos - hdr || len == 0)
      return short_item (m, k, leaf);
    parent = ext ? vbm_le64 (d + pos) : k->offset;
    /* The top directory names itself "..". */
    if (parent != k->objectid &&
        add_name (m, sv, k->objectid, parent, d + pos + hdr, len) == -1)
      return -1;
    pos += hdr + len;
  }
  return 0;
}

int
bt_fs_item (struct btrfs_map *m, void *opaque, const struct bt_key *k,
            const unsigned char *d, uint32_t size, uint64_t leaf,
            uint32_t off)
{
  const uint32_t sv = *(const uint32_t *) opaque;
  struct bt_extent e = { .sv = sv, .ino = k->objectid };

  if (k->objectid < BT_FIRST_FREE || k->objectid > BT_LAST_FREE)
    return 0;
  switch (k->type) {
  case BT_INODE_ITEM: {
    struct bt_inode in = { .sv = sv, .ino = k->objectid };

    if (size < 160)
      return short_item (m, k, leaf);
    in.size = vbm_le64 (d + 16);
    in.nlink = vbm_le32 (d + 40);
    in.mode = vbm_le32 (d + 52);
    if (bt_inode_vector_append (&m->inodes, in) == -1)
      return bt_nomem (m);
    return 0;
  }
  case BT_INODE_REF:
  case BT_INODE_EXTREF:
    return refs (m, sv, k, d, size, leaf);
  case BT_EXTENT_DATA:
    break;
  default:
    return 0;
  }

  if (size < BT_FE_HEADER)
    return short_item (m, k, leaf);
  e.file_off = k->offset;
  e.type = d[20];
  e.compression = d[16];
  e.num_bytes = vbm_le64 (d + 8);       /* ram_bytes */
  if (e.type == BT_FE_INLINE) {
    e.disk_bytenr = leaf;
    e.ext_off = off + BT_FE_HEADER;
    e.disk_len = size - BT_FE_HEADER;
  }
  else if (e.type == BT_FE_REG || e.type == BT_FE_PREALLOC) {
    if (size < BT_FE_SIZE)
      return short_item (m, k, leaf);
    e.disk_bytenr = vbm_le64 (d + 21);
    e.disk_len = vbm_le64 (d + 29);
    e.ext_off = vbm_le64 (d + 37);
    e.num_bytes = vbm_le64 (d + 45);
    if (e.disk_bytenr && (e.disk_len == 0 || e.disk_len > MAX_EXTENT ||
                          e.disk_bytenr + e.disk_len < e.disk_bytenr ||
                          e.num_bytes > MAX_EXTENT ||
                          (!e.compression &&
                           (e.ext_off > e.disk_len ||
                            e.num_bytes > e.disk_len - e.ext_off))))
      return short_item (m, k, leaf);
  }
  else
    return short_item (m, k, leaf);
  if (bt_extent_vector_append (&m->extents, e) == -1)
    return bt_nomem (m);
  return 0;
}
