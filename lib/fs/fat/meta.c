/* The regions outside the cluster heap, computed from the boot sector
 * (libtsk shows the FATs but not the reserved sectors), exFAT's
 * allocation bitmap and up-case table, and which clusters are in use
 * for the final sweep: the FAT's own word, or exFAT's bitmap.
 */
#include <config.h>

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "fat-map.h"
#include "le.h"

/* Metadata names must outlive the map (fsmap.h): a table of literals. */
static const char *const fat_names[] = {
  "<FAT 1>", "<FAT 2>", "<FAT 3>", "<FAT 4>",
};
#define MAX_FATS (sizeof fat_names / sizeof fat_names[0])

/* FAT entries read at a time for the sweep. */
#define FAT_CHUNK (256 * 1024)

/* Maps sectors [s, s+n) as metadata name, at offset off in it. */
static int
meta_sectors (struct fat_map *m, const char *name, uint64_t size,
              uint64_t s, uint64_t n, uint64_t off)
{
  const uint64_t bps = m->l.bps;
  int64_t obj;

  if (n == 0)
    return 0;
  obj = vbm_fsmap_meta (m->fm, name, size);
  if (obj == -1)
    return -1;
  return vbm_fsmap_bytes (m->fm, obj, s * bps, n * bps, off * bps, 0);
}

/* A sector that should hold a copy of FSInfo or of the boot sector. */
static bool
sector_has (struct fat_map *m, uint64_t s, bool fsinfo)
{
  unsigned char *buf = malloc (m->l.bps);
  bool r = false;

  if (buf == NULL)
    return false;
  if ((s + 1) * m->l.bps <= m->vol->length &&
      vbm_volume_pread (m->ctx, m->vol, buf, m->l.bps, s * m->l.bps) == 0) {
    if (fsinfo)
      r = vbm_le32 (buf) == 0x41615252 && vbm_le32 (buf + 484) == 0x61417272;
    else
      r = fat_boot_signature (buf, m->l.bps);
  }
  free (buf);
  return r;
}

/* The reserved sectors [0, end) and the padding [pad, heap) before
 * the cluster heap (exFAT aligns the heap): the boot sector, FSInfo
 * and their backups by name, the rest as <reserved sectors>.
 */
struct special {
  uint64_t sector, count;
  const char *name;
};

static int
map_reserved (struct fat_map *m, uint64_t end, struct special *sp, size_t n,
              uint64_t pad, uint64_t heap)
{
  uint64_t s, next, nres;
  size_t i, j;

  /* Drop overlapping or outside entries, sort by sector. */
  for (i = 0; i < n; ++i) {
    if (sp[i].sector >= end || sp[i].count > end - sp[i].sector)
      sp[i].count = 0;
    for (j = 0; j < i && sp[i].count; ++j)
      if (sp[j].count && sp[i].sector < sp[j].sector + sp[j].count &&
          sp[j].sector < sp[i].sector + sp[i].count)
        sp[i].count = 0;
  }
  for (i = 1; i < n; ++i)
    for (j = i; j > 0 && sp[j].sector < sp[j - 1].sector; --j) {
      struct special t = sp[j];
      sp[j] = sp[j - 1];
      sp[j - 1] = t;
    }
  nres = end + (heap > pad ? heap - pad : 0);
  for (i = 0; i < n; ++i)
    nres -= sp[i].count;

  /* Each object's extents one after the other, in the order the
   * objects are made: the store's index of extents by object is then
   * written as it comes, without a sort (a tenth of the time of a
   * big map).
   */
  for (i = 0; i < n; ++i)
    if (meta_sectors (m, sp[i].name, sp[i].count * m->l.bps,
                      sp[i].sector, sp[i].count, 0) == -1)
      return -1;
  /* The offset of a byte in <reserved sectors> is its offset in the
   * volume: the named sectors cut holes in it.
   */
  for (i = 0, s = 0; s < end; s = next) {
    while (i < n && sp[i].count == 0)
      i++;
    next = i < n ? sp[i].sector : end;
    if (next > s &&
        meta_sectors (m, "<reserved sectors>", nres * m->l.bps, s,
                      next - s, s) == -1)
      return -1;
    if (i < n) {
      next = sp[i].sector + sp[i].count;
      i++;
    }
  }
  if (heap > pad &&
      meta_sectors (m, "<reserved sectors>", nres * m->l.bps, pad,
                    heap - pad, pad) == -1)
    return -1;
  return 0;
}

/* exFAT: the allocation bitmap and up-case table, from the directory
 * entries (types 0x81 and 0x82) in the first cluster of the root
 * directory, where every formatter puts them.
 */
#define ROOT_READ_MAX (1024 * 1024)

static int
find_exfat_tables (struct fat_map *m)
{
  const uint64_t cs = (uint64_t) m->l.spc * m->l.bps;
  uint64_t len = cs < ROOT_READ_MAX ? cs : ROOT_READ_MAX;
  uint64_t at = fat_cluster_sector (m, m->l.root_cluster) * m->l.bps;
  unsigned char *buf;
  size_t i;

  if (at >= m->vol->length)
    return 0;
  if (len > m->vol->length - at)
    len = m->vol->length - at;
  buf = malloc (len);
  if (buf == NULL) {
    vbm_set_error (m->ctx->err, errno, "%s: %s", m->vol->device,
                   strerror (errno));
    return -1;
  }
  if (vbm_volume_pread (m->ctx, m->vol, buf, len, at) == -1) {
    free (buf);
    return -1;
  }
  for (i = 0; i + 32 <= len && buf[i] != 0; i += 32) {
    const unsigned char *e = buf + i;

    /* The first bitmap only: the second is TexFAT's. */
    if (e[0] == 0x81 && m->bitmap_len == 0 && (e[1] & 1) == 0) {
      m->bitmap_cluster = vbm_le32 (e + 20);
      m->bitmap_len = vbm_le32 (e + 24) | ((uint64_t) vbm_le32 (e + 28) << 32);
    }
    else if (e[0] == 0x82 && m->upcase_len == 0) {
      m->upcase_cluster = vbm_le32 (e + 20);
      m->upcase_len = vbm_le32 (e + 24) | ((uint64_t) vbm_le32 (e + 28) << 32);
    }
  }
  free (buf);
  if (m->bitmap_len == 0)
    vbm_fsmap_warn (m->fm, "exFAT: no allocation bitmap entry in the root "
                    "directory");
  else if (m->bitmap_len < (m->l.nclusters + 7) / 8)
    vbm_fsmap_warn (m->fm, "exFAT: the allocation bitmap (%" PRIu64
                    " bytes) is too small for %" PRIu64 " clusters",
                    m->bitmap_len, m->l.nclusters);
  return 0;
}

/* A table in the cluster heap, contiguous (exFAT's bitmap and up-case
 * table have no FAT chain).
 */
static int
map_table (struct fat_map *m, const char *name, uint32_t cluster,
           uint64_t len)
{
  const uint64_t cs = (uint64_t) m->l.spc * m->l.bps;
  uint64_t n = len / cs + (len % cs != 0);
  int64_t obj;

  if (len == 0)
    return 0;
  if (cluster < 2 || cluster - 2 >= m->l.nclusters ||
      n > m->l.nclusters - (cluster - 2)) {
    vbm_fsmap_warn (m->fm, "%s: clusters %" PRIu32 "+%" PRIu64 " outside "
                    "the cluster heap (not mapped)", name, cluster, n);
    return 0;
  }
  obj = vbm_fsmap_meta (m->fm, name, len);
  if (obj == -1)
    return -1;
  vbm_fsmap_stream (m->fm, len, len);
  if (vbm_fsmap_units (m->fm, obj, cluster - 2, n, 0, 0) == -1)
    return -1;
  vbm_fsmap_end_stream (m->fm);
  vbm_fsmap_end_object (m->fm, name);
  return 0;
}

int
fat_map_metadata (struct fat_map *m)
{
  const struct fat_layout *l = &m->l;
  struct special sp[4];
  size_t nsp = 0;
  uint64_t fatsize = l->fat_sectors * l->bps;
  uint32_t i;

  if (l->type == EXFAT) {
    sp[nsp++] = (struct special) { 0, 12, "<boot sector>" };
    sp[nsp++] = (struct special) { 12, 12, "<backup boot sector>" };
  }
  else {
    sp[nsp++] = (struct special) { 0, 1, "<boot sector>" };
    if (l->fsinfo) {
      if (sector_has (m, l->fsinfo, true))
        sp[nsp++] = (struct special) { l->fsinfo, 1, "<FSInfo>" };
      else
        vbm_fsmap_warn (m->fm, "no FSInfo signature in sector %" PRIu32,
                        l->fsinfo);
    }
    if (l->backup_boot) {
      if (sector_has (m, l->backup_boot, false))
        sp[nsp++] = (struct special) { l->backup_boot, 1,
                                       "<backup boot sector>" };
      else
        vbm_fsmap_warn (m->fm, "no backup boot sector in sector %" PRIu32,
                        l->backup_boot);
      if (l->fsinfo && sector_has (m, l->backup_boot + l->fsinfo, true))
        sp[nsp++] = (struct special) { l->backup_boot + l->fsinfo, 1,
                                       "<backup FSInfo>" };
    }
  }
  if (map_reserved (m, l->reserved, sp, nsp,
                    l->reserved + l->nfats * l->fat_sectors + l->root_sectors,
                    l->heap_start) == -1)
    return -1;

  for (i = 0; i < l->nfats; ++i) {
    const char *name = i < MAX_FATS ? fat_names[i] : "<other FAT copies>";
    uint64_t size = i < MAX_FATS ? fatsize : (l->nfats - MAX_FATS) * fatsize;
    uint64_t off = i < MAX_FATS ? 0 : (i - MAX_FATS) * l->fat_sectors;

    if (meta_sectors (m, name, size, l->reserved + i * l->fat_sectors,
                      l->fat_sectors, off) == -1)
      return -1;
  }

  if (l->type == EXFAT) {
    if (find_exfat_tables (m) == -1 ||
        map_table (m, "<allocation bitmap>", m->bitmap_cluster,
                   m->bitmap_len) == -1 ||
        map_table (m, "<up-case table>", m->upcase_cluster,
                   m->upcase_len) == -1)
      return -1;
  }
  else if (l->root_sectors &&
           meta_sectors (m, "<root directory>", l->root_sectors * l->bps,
                         l->root_start, l->root_sectors, 0) == -1)
    return -1;
  return 0;
}

/* ---- Against libtsk. ---- */

static void
check_run (struct fat_map *m, TSK_INUM_T inum, const char *what,
           uint64_t start, uint64_t len)
{
  TSK_FS_FILE *f = tsk_fs_file_open_meta (m->fs, NULL, inum);
  const TSK_FS_ATTR *a = f ? tsk_fs_file_attr_get (f) : NULL;
  const TSK_FS_ATTR_RUN *r = a && (a->flags & TSK_FS_ATTR_NONRES)
    ? a->nrd.run : NULL;

  /* libtsk 4.11 gives no runs for the FAT of a small exFAT volume
   * (mkfs.exfat of 4 MiB: "starting cluster address too large: 2048",
   * the FAT's first sector checked as if it were a cluster): say it is
   * libtsk's, not a disagreement about the layout.
   */
  if (r == NULL)
    vbm_fsmap_warn (m->fm, "%s: libtsk cannot place it (%s): the boot "
                    "sector's layout is used (sector %" PRIu64 ", %" PRIu64
                    " sectors)", what,
                    tsk_error_get () ? tsk_error_get () : "no runs",
                    start, len);
  else if (r->addr != start || r->len != len || r->next != NULL)
    vbm_fsmap_warn (m->fm, "%s: the boot sector puts it at sector %" PRIu64
                    " (%" PRIu64 " sectors), libtsk at %" PRIu64 " (%" PRIu64
                    "): the boot sector's layout is used", what, start, len,
                    (uint64_t) r->addr, (uint64_t) r->len);
  tsk_fs_file_close (f);
}

void
fat_check_tsk_layout (struct fat_map *m)
{
  const struct fat_layout *l = &m->l;
  TSK_FS_TYPE_ENUM want = l->type == FAT12 ? TSK_FS_TYPE_FAT12 :
    l->type == FAT16 ? TSK_FS_TYPE_FAT16 :
    l->type == FAT32 ? TSK_FS_TYPE_FAT32 : TSK_FS_TYPE_EXFAT;

  if (m->fs->ftype != want)
    vbm_fsmap_warn (m->fm, "libtsk reads it as %s, the boot sector as %s",
                    tsk_fs_type_toname (m->fs->ftype),
                    fat_type_name (l->type));
  if (m->fs->block_size != l->bps)
    vbm_fsmap_warn (m->fm, "libtsk's sector size %u differs from the boot "
                    "sector's %" PRIu32, m->fs->block_size, l->bps);
  if (l->root_sectors)
    check_run (m, m->fs->root_inum, "<root directory>", l->root_start,
               l->root_sectors);
  tsk_error_reset ();
}

void
fat_check_tsk_fats (struct fat_map *m)
{
  const struct fat_layout *l = &m->l;
  unsigned i;

  for (i = 0; i < 2 && i < l->nfats; ++i)
    if (m->fat_inum[i] == 0)
      vbm_fsmap_warn (m->fm, "libtsk shows no $FAT%u", i + 1);
    else
      check_run (m, m->fat_inum[i], fat_names[i],
                 l->reserved + i * l->fat_sectors, l->fat_sectors);
  tsk_error_reset ();
}

/* ---- Clusters in use, for the sweep. ---- */

/* FAT entry of cluster c in buf, which holds the FAT's bytes from
 * byte base on.
 */
static uint32_t
fat_entry (const struct fat_map *m, const unsigned char *buf, uint64_t base,
           uint64_t c)
{
  switch (m->l.type) {
  case FAT12: {
    uint16_t v = vbm_le16 (buf + (c + c / 2 - base));
    return c & 1 ? v >> 4 : v & 0xFFF;
  }
  case FAT16:
    return vbm_le16 (buf + (c * 2 - base));
  default:
    return vbm_le32 (buf + (c * 4 - base)) & 0x0FFFFFFF;
  }
}

/* FAT12/16/32: a cluster with a non-zero entry in the first FAT is in
 * use (bad clusters too: they end up <unaccounted>).
 */
static int
fat_allocated (struct fat_map *m)
{
  const uint64_t first = 2, last = m->l.nclusters + 2;
  const uint64_t fat_off = m->l.reserved * m->l.bps;
  const uint64_t fat_len = m->l.fat_sectors * m->l.bps;
  unsigned char *buf = malloc (FAT_CHUNK + 4);
  uint64_t c = first, run = 0, run_len = 0;
  bool warned = false;

  if (buf == NULL) {
    vbm_set_error (m->ctx->err, errno, "%s: %s", m->vol->device,
                   strerror (errno));
    return -1;
  }
  while (c < last) {
    /* The bytes of the entries from c on, a whole number of entries
     * (FAT12: of pairs, 3 bytes each).
     */
    uint64_t base = m->l.type == FAT12 ? (c / 2) * 3 :
      m->l.type == FAT16 ? c * 2 : c * 4;
    uint64_t per = m->l.type == FAT12 ? FAT_CHUNK / 3 * 2 :
      m->l.type == FAT16 ? FAT_CHUNK / 2 : FAT_CHUNK / 4;
    uint64_t end = c + per < last ? c + per : last;
    uint64_t need = m->l.type == FAT12 ? (end + 1) / 2 * 3 - base
      : (end - c) * (m->l.type == FAT16 ? 2 : 4);
    bool ok;

    /* FAT12's last pair may have only its first entry in the FAT. */
    if (base + need > fat_len)
      need = base < fat_len ? fat_len - base : 0;
    ok = need > 0 && fat_off + base + need <= m->vol->length;
    memset (buf, 0, FAT_CHUNK + 4);
    if (ok && vbm_volume_pread (m->ctx, m->vol, buf, need,
                                fat_off + base) == -1)
      return free (buf), -1;
    if (!ok && !warned) {
      vbm_fsmap_warn (m->fm, "cannot read the FAT past cluster %" PRIu64
                      ": the clusters after are counted as in use", c);
      warned = true;
    }
    for (; c < end; ++c) {
      bool used = !ok || fat_entry (m, buf, base, c) != 0;

      if (used && run_len && run + run_len == c - first)
        run_len++;
      else if (used) {
        if (run_len && vbm_fsmap_allocated (m->fm, run, run_len) == -1)
          return free (buf), -1;
        run = c - first;
        run_len = 1;
      }
    }
  }
  free (buf);
  if (run_len && vbm_fsmap_allocated (m->fm, run, run_len) == -1)
    return -1;
  return 0;
}

/* exFAT: its allocation bitmap, one bit per cluster from cluster 2. */
static int
exfat_allocated (struct fat_map *m)
{
  const uint64_t n = m->l.nclusters;
  const uint64_t bytes = (n + 7) / 8;
  uint64_t at = 0, done = 0;
  unsigned char *buf;

  if (m->bitmap_len < bytes || m->bitmap_cluster < 2 ||
      m->bitmap_cluster - 2 >= n) {
    vbm_fsmap_warn (m->fm, "exFAT: no usable allocation bitmap: unclaimed "
                    "clusters are <unaccounted>");
    return vbm_fsmap_allocated (m->fm, 0, n);
  }
  at = fat_cluster_sector (m, m->bitmap_cluster) * m->l.bps;
  buf = malloc (FAT_CHUNK);
  if (buf == NULL) {
    vbm_set_error (m->ctx->err, errno, "%s: %s", m->vol->device,
                   strerror (errno));
    return -1;
  }
  while (done < bytes) {
    uint64_t k = bytes - done < FAT_CHUNK ? bytes - done : FAT_CHUNK;
    uint64_t nbits = k * 8 < n - done * 8 ? k * 8 : n - done * 8;
    int r;

    if (at + done + k > m->vol->length) {
      vbm_fsmap_warn (m->fm, "exFAT: the allocation bitmap is past the "
                      "end of the volume: clusters from %" PRIu64
                      " on are counted as in use", done * 8 + 2);
      r = vbm_fsmap_allocated (m->fm, done * 8, n - done * 8);
      free (buf);
      return r;
    }
    if (vbm_volume_pread (m->ctx, m->vol, buf, k, at + done) == -1 ||
        vbm_fsmap_allocated_bits (m->fm, done * 8, buf, nbits) == -1)
      return free (buf), -1;
    done += k;
  }
  free (buf);
  return 0;
}

int
fat_map_unclaimed (struct fat_map *m)
{
  struct vbm_fsmap_unclaimed u;

  if ((m->l.type == EXFAT ? exfat_allocated (m) : fat_allocated (m)) == -1 ||
      vbm_fsmap_sweep (m->fm, &u) == -1)
    return -1;
  if (u.unaccounted)
    vbm_fsmap_warn (m->fm, "%" PRIu64 " cluster(s) in use per the %s belong "
                    "to no live file or directory: mapped as <unaccounted>",
                    u.unaccounted,
                    m->l.type == EXFAT ? "allocation bitmap" : "FAT");
  if (u.claimed_free)
    vbm_fsmap_warn (m->fm, "%" PRIu64 " cluster(s) of files or directories "
                    "are free per the %s", u.claimed_free,
                    m->l.type == EXFAT ? "allocation bitmap" : "FAT");
  return vbm_fsmap_beyond (m->fm, fat_heap_end (&m->l) * m->l.bps, 0, 0);
}
