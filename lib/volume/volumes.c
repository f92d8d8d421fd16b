/* The volume layer: finds the partition table of a disk (GPT, MBR with
 * its EBR chains, or none), maps the table sectors, the partitions and
 * the gaps between them, and hands each partition to the filesystem
 * layer.  The parsers are in mbr.c and gpt.c; the conventions of the
 * map are described in parttable.h.
 */
#include <config.h>

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "checked-overflow.h"
#include "ctx.h"
#include "fs.h"
#include "volumes.h"
#include "parttable.h"
#include "vector.h"

/* Bounds against hostile tables. */
#define MAX_EBRS 1024              /* EBRs followed per disk */
#define MAX_OVERLAP_WARNINGS 8     /* per container */
#define MAX_SECTOR_SIZE 4096

#define UNPARTITIONED "<unpartitioned>"

/* A child range of a container, remembered to find the gaps. */
struct region {
  uint64_t start, end;          /* disk offsets, end exclusive */
  char label[32];               /* for overlap warnings */
};
DEFINE_VECTOR_TYPE (region_vector, struct region);
DEFINE_VECTOR_TYPE (lba_vector, uint64_t);

/* A volume whose children are being mapped: the disk or an extended
 * partition.
 */
struct container {
  const struct vbm_volume *vol;
  region_vector children;
};

static uint64_t
container_end (const struct container *c)
{
  return c->vol->offset + c->vol->length;
}

static int
nomem (struct vbm_ctx *ctx)
{
  vbm_set_error (ctx->err, errno, "%s", strerror (errno));
  return -1;
}

/* Adds an object with one extent covering [start, start+len). */
static int64_t
add_mapped (struct vbm_ctx *ctx, const struct container *c, char kind,
            const char *device, const char *path,
            uint64_t start, uint64_t len)
{
  struct vbm_object obj = {
    .parent = c->vol->object, .disk = ctx->disk, .kind = kind,
    .device = device, .path = path, .size = len,
  };
  int64_t id;

  id = vbm_add_object (ctx, &obj);
  if (id == -1)
    return -1;
  /* A gap has no inside: its bytes are not at any offset of it. */
  if (vbm_add_extent (ctx, id, start, len,
                      kind == VBM_KIND_FREE ? -1 : 0, 0) == -1)
    return -1;
  return id;
}

/* Adds a child of the container (already clipped to it) and
 * remembers its range.
 */
static int64_t
add_child (struct vbm_ctx *ctx, struct container *c, char kind,
           const char *device, const char *path,
           uint64_t start, uint64_t len)
{
  struct region r = { .start = start, .end = start + len };
  int64_t id;

  snprintf (r.label, sizeof r.label, "%s",
            kind == VBM_KIND_PARTITION ? device : path);
  id = add_mapped (ctx, c, kind, device, path, start, len);
  if (id == -1)
    return -1;
  if (region_vector_append (&c->children, r) == -1)
    return nomem (ctx);
  return id;
}

static int
compare_regions (const struct region *a, const struct region *b)
{
  if (a->start != b->start)
    return a->start < b->start ? -1 : 1;
  if (a->end != b->end)
    return a->end < b->end ? -1 : 1;
  return 0;
}

/* Warns about overlapping children and maps the bytes no child covers
 * as gaps, so that the children cover the container exactly.
 */
static int
finish_container (struct vbm_ctx *ctx, struct container *c)
{
  const char *device = c->vol->device;
  uint64_t pos = c->vol->offset, end = container_end (c);
  const char *reach_label = NULL;
  unsigned overlaps = 0;
  size_t i;

  if (c->children.len > 1)     /* qsort must not see a NULL array */
    region_vector_sort (&c->children, compare_regions);
  for (i = 0; i < c->children.len; ++i) {
    const struct region *r = &c->children.ptr[i];

    if (r->start > pos) {
      if (add_mapped (ctx, c, VBM_KIND_FREE, device, UNPARTITIONED,
                      pos, r->start - pos) == -1)
        return -1;
    }
    else if (r->start < pos && reach_label) {
      if (overlaps++ < MAX_OVERLAP_WARNINGS)
        vbm_warn (ctx, "%s: %s overlaps %s", device, r->label, reach_label);
    }
    if (r->end > pos) {
      pos = r->end;
      reach_label = r->label;
    }
  }
  if (overlaps > MAX_OVERLAP_WARNINGS)
    vbm_warn (ctx, "%s: %u more overlaps not shown",
              device, overlaps - MAX_OVERLAP_WARNINGS);
  if (pos < end &&
      add_mapped (ctx, c, VBM_KIND_FREE, device, UNPARTITIONED,
                  pos, end - pos) == -1)
    return -1;
  return 0;
}

/* Clips a partition to its container.  Returns false (after warning)
 * if nothing of it is inside.
 */
static bool
clip (struct vbm_ctx *ctx, const struct container *c, const char *what,
      uint64_t *start, uint64_t *len)
{
  uint64_t end = container_end (c);

  if (*start < c->vol->offset || *start >= end) {
    vbm_warn (ctx, "%s: %s starts at byte %" PRIu64
              ", outside %s (bytes %" PRIu64 "-%" PRIu64 "); ignored",
              c->vol->device, what, *start, c->vol->device,
              c->vol->offset, end);
    return false;
  }
  if (*len > end - *start) {
    vbm_warn (ctx, "%s: %s extends beyond the end of %s; clipped "
              "to %" PRIu64 " bytes",
              c->vol->device, what, c->vol->device, end - *start);
    *len = end - *start;
  }
  return true;
}

/* /dev/sda + 1 = /dev/sda1, but /dev/nvme0n1 + 1 = /dev/nvme0n1p1. */
static void
partition_device (char *buf, size_t len, const char *disk, unsigned n)
{
  size_t l = strlen (disk);
  bool digit = l > 0 && disk[l - 1] >= '0' && disk[l - 1] <= '9';

  snprintf (buf, len, "%s%s%u", disk, digit ? "p" : "", n);
}

/* What a partition or a whole disk holds: an LVM PV, or a
 * filesystem.  A probe that cannot read leaves the warning to the
 * filesystem layer.
 */
static int
map_contents (struct vbm_ctx *ctx, const struct vbm_volume *vol)
{
  bool pv = false;

  if (vbm_lvm_probe (ctx, vol, &pv) == 0 && pv)
    return vbm_map_lvm_pv (ctx, vol);
  return vbm_map_filesystem (ctx, vol);
}

/* Maps a partition and, unless it is an extended partition, its
 * filesystem.  *id gets its object id.
 */
static int
map_partition (struct vbm_ctx *ctx, struct container *c, const char *device,
               uint64_t start, uint64_t len, bool extended, int64_t *id)
{
  struct vbm_volume vol;

  *id = add_child (ctx, c, VBM_KIND_PARTITION, device, NULL, start, len);
  if (*id == -1)
    return -1;
  ctx->stats->partitions++;
  vbm_debug (ctx, "%s: bytes %" PRIu64 "-%" PRIu64 "%s", device,
             start, start + len, extended ? " (extended)" : "");
  if (extended)
    return 0;
  vol = (struct vbm_volume) {
    .object = *id, .device = device, .offset = start, .length = len,
  };
  return map_contents (ctx, &vol);
}

static int
read_at (struct vbm_ctx *ctx, const struct vbm_volume *disk,
         void *buf, size_t len, uint64_t offset)
{
  return vbm_volume_pread (ctx, disk, buf, len, offset);
}

static bool
all_zero (const unsigned char *buf, size_t len)
{
  size_t i;

  for (i = 0; i < len; ++i)
    if (buf[i])
      return false;
  return true;
}

/* ---- MBR and EBR chains. ---- */

static bool
visited (const lba_vector *v, uint64_t lba)
{
  size_t i;

  for (i = 0; i < v->len; ++i)
    if (v->ptr[i] == lba)
      return true;
  return false;
}

/* Follows the EBR chain of an extended partition: each EBR holds one
 * logical partition and the link to the next EBR.  ebrs (shared by
 * all extended partitions of the disk) bounds the chain and catches
 * loops.
 */
static int
map_extended (struct vbm_ctx *ctx, const struct vbm_volume *disk,
              size_t ss, const struct vbm_volume *ext,
              unsigned *next_number, lba_vector *ebrs)
{
  struct container c = { .vol = ext, .children = empty_vector };
  /* The EBR is in the first 512 bytes of its sector, whatever its size. */
  unsigned char sector[VBM_SECTOR_SIZE];
  uint64_t ext_lba = ext->offset / ss;
  uint64_t ext_sectors = ext->length / ss;
  uint64_t lba = ext_lba;
  char device[64];
  struct vbm_error why;
  struct vbm_ebr ebr;
  int64_t id;
  int r = -1;

  while (ext_sectors > 0) {
    if (ebrs->len >= MAX_EBRS) {
      vbm_warn (ctx, "%s: more than %d EBRs; the rest are ignored",
                ext->device, MAX_EBRS);
      break;
    }
    if (visited (ebrs, lba)) {
      vbm_warn (ctx, "%s: the EBR chain loops back to sector %" PRIu64
                "; the rest is ignored", ext->device, lba);
      break;
    }
    if (lba_vector_append (ebrs, lba) == -1) {
      nomem (ctx);
      goto out;
    }
    if (read_at (ctx, disk, sector, sizeof sector, lba * ss) == -1)
      goto out;
    if (vbm_ebr_parse (sector, &ebr, &why) == -1) {
      /* An extended partition with no logicals may start with zeroes. */
      if (lba != ext_lba || !all_zero (sector, sizeof sector))
        vbm_warn (ctx, "%s: sector %" PRIu64 " is not an EBR (%s); "
                  "the logical partitions end here",
                  ext->device, lba, why.msg);
      break;
    }
    if (add_child (ctx, &c, VBM_KIND_METADATA, ext->device, "<ebr>",
                   lba * ss, ss) == -1)
      goto out;
    if (ebr.ignored > 0)
      vbm_warn (ctx, "%s: EBR at sector %" PRIu64 " has %u extra "
                "entries; ignored", ext->device, lba, ebr.ignored);

    if (ebr.has_logical) {
      /* At most (2^33 + 2^32) * 4096: no overflow. */
      uint64_t start = (lba + ebr.logical.start) * ss;
      uint64_t len = (uint64_t) ebr.logical.sectors * ss;

      partition_device (device, sizeof device, disk->device,
                        (*next_number)++);
      if (clip (ctx, &c, device, &start, &len) &&
          map_partition (ctx, &c, device, start, len, false, &id) == -1)
        goto out;
    }

    if (!ebr.has_next)
      break;
    if (ebr.next.start >= ext_sectors) {
      vbm_warn (ctx, "%s: EBR at sector %" PRIu64 " links to sector %"
                PRIu64 ", outside the extended partition; the rest is "
                "ignored", ext->device, lba, ext_lba + ebr.next.start);
      break;
    }
    lba = ext_lba + ebr.next.start;
  }

  r = finish_container (ctx, &c);
 out:
  region_vector_reset (&c.children);
  return r;
}

static int
map_mbr (struct vbm_ctx *ctx, const struct vbm_volume *disk, size_t ss,
         const struct vbm_mbr *mbr)
{
  struct container c = { .vol = disk, .children = empty_vector };
  struct vbm_volume ext[VBM_MBR_ENTRIES];
  char ext_device[VBM_MBR_ENTRIES][64];
  size_t i, n_ext = 0;
  lba_vector ebrs = empty_vector;
  unsigned next_number = 5;     /* logicals are sda5, sda6, ... */
  int r = -1;

  vbm_debug (ctx, "%s: MBR partition table, %zu-byte sectors",
             disk->device, ss);
  if (add_child (ctx, &c, VBM_KIND_METADATA, disk->device,
                 "<partition table>", 0, ss) == -1)
    goto out;

  for (i = 0; i < VBM_MBR_ENTRIES; ++i) {
    const struct vbm_mbr_entry *e = &mbr->entry[i];
    bool extended = vbm_mbr_type_extended (e->type);
    char *device = ext_device[n_ext]; /* kept if it is extended */
    uint64_t start = (uint64_t) e->start * ss;
    uint64_t len = (uint64_t) e->sectors * ss;
    int64_t id;

    if (vbm_mbr_entry_empty (e))
      continue;
    partition_device (device, sizeof ext_device[0], disk->device, i + 1);
    if (!clip (ctx, &c, device, &start, &len))
      continue;
    if (map_partition (ctx, &c, device, start, len, extended, &id) == -1)
      goto out;
    if (extended)
      ext[n_ext++] = (struct vbm_volume) {
        .object = id, .device = device, .offset = start, .length = len,
      };
  }

  /* Linux follows every extended partition, numbering the logicals
   * of all of them in one sequence.
   */
  for (i = 0; i < n_ext; ++i)
    if (map_extended (ctx, disk, ss, &ext[i], &next_number, &ebrs) == -1)
      goto out;

  r = finish_container (ctx, &c);
 out:
  lba_vector_reset (&ebrs);
  region_vector_reset (&c.children);
  return r;
}

/* ---- GPT. ---- */

/* One copy of the GPT: header and entry array. */
struct gpt_copy {
  uint64_t lba;                 /* where the header was looked for */
  bool header_ok, entries_ok;
  struct vbm_gpt_header h;
  unsigned char *array;
  struct vbm_error why;         /* what is wrong with it */
};

/* Reads and checks one copy.  Only I/O and allocation failures are
 * errors; a corrupt copy is described in g->why.
 */
static int
read_gpt_copy (struct vbm_ctx *ctx, const struct vbm_volume *disk,
               size_t ss, uint64_t lba, struct gpt_copy *g)
{
  unsigned char sector[MAX_SECTOR_SIZE];
  uint64_t disk_sectors = disk->length / ss;
  size_t bytes;

  g->lba = lba;
  if (lba >= disk_sectors) {
    vbm_set_error (&g->why, EINVAL, "LBA %" PRIu64 " is beyond the end "
                   "of the disk", lba);
    return 0;
  }
  if (read_at (ctx, disk, sector, ss, lba * ss) == -1)
    return -1;
  if (vbm_gpt_parse_header (sector, ss, lba, disk_sectors, &g->h,
                            &g->why) == -1)
    return 0;
  g->header_ok = true;

  /* Bounded by VBM_GPT_ARRAY_MAX and inside the disk: the header
   * check made sure of both.
   */
  bytes = vbm_gpt_array_bytes (&g->h);
  g->array = malloc (bytes > 0 ? bytes : 1);
  if (g->array == NULL)
    return nomem (ctx);
  if (read_at (ctx, disk, g->array, bytes, g->h.entries_lba * ss) == -1)
    return -1;
  if (vbm_gpt_check_entries (&g->h, g->array, bytes, &g->why) == -1)
    return 0;
  g->entries_ok = true;
  return 0;
}

/* Maps one table area of a copy of the GPT if it fits. */
static int
add_gpt_area (struct vbm_ctx *ctx, struct container *c, size_t ss,
              const char *path, uint64_t lba, uint64_t sectors)
{
  uint64_t disk_sectors = c->vol->length / ss;

  if (sectors == 0 || lba >= disk_sectors || sectors > disk_sectors - lba)
    return 0;
  return add_child (ctx, c, VBM_KIND_METADATA, c->vol->device, path,
                    lba * ss, sectors * ss) == -1 ? -1 : 0;
}

/* The areas of both copies: where the headers say, or where they
 * would be when a header is corrupt (the array just after the
 * primary header and just before the backup header, outside the
 * usable area).
 */
static int
map_gpt_areas (struct vbm_ctx *ctx, struct container *c, size_t ss,
               const struct gpt_copy *primary, const struct gpt_copy *backup,
               bool backup_expected, const struct vbm_gpt_header *h)
{
  uint64_t n = vbm_gpt_array_sectors (h, ss);

  if (add_gpt_area (ctx, c, ss, "<protective mbr>", 0, 1) == -1 ||
      add_gpt_area (ctx, c, ss, "<gpt header>", 1, 1) == -1)
    return -1;
  if (primary->header_ok) {
    if (add_gpt_area (ctx, c, ss, "<gpt entries>", primary->h.entries_lba,
                      vbm_gpt_array_sectors (&primary->h, ss)) == -1)
      return -1;
  }
  else if (2 + n <= h->first_usable &&
           add_gpt_area (ctx, c, ss, "<gpt entries>", 2, n) == -1)
    return -1;

  /* A backup that is not there is mapped only where it belongs,
   * after the usable area.
   */
  if (!backup_expected ||
      (!backup->header_ok && backup->lba <= h->last_usable))
    return 0;
  if (add_gpt_area (ctx, c, ss, "<gpt backup header>", backup->lba, 1) == -1)
    return -1;
  if (backup->header_ok) {
    if (add_gpt_area (ctx, c, ss, "<gpt backup entries>",
                      backup->h.entries_lba,
                      vbm_gpt_array_sectors (&backup->h, ss)) == -1)
      return -1;
  }
  else if (n <= backup->lba && backup->lba - n > h->last_usable &&
           add_gpt_area (ctx, c, ss, "<gpt backup entries>",
                         backup->lba - n, n) == -1)
    return -1;
  return 0;
}

static int
map_gpt_partitions (struct vbm_ctx *ctx, struct container *c, size_t ss,
                    const struct gpt_copy *g)
{
  const struct vbm_volume *disk = c->vol;
  char device[64];
  uint32_t i;

  for (i = 0; i < g->h.num_entries; ++i) {
    struct vbm_gpt_entry e;
    uint64_t sectors, start, len;
    int64_t id;

    vbm_gpt_parse_entry (&g->h, g->array, i, &e);
    if (!vbm_gpt_entry_used (&e))
      continue;
    partition_device (device, sizeof device, disk->device, i + 1);
    if (e.last_lba < e.first_lba) {
      vbm_warn (ctx, "%s: %s ends (LBA %" PRIu64 ") before it starts "
                "(LBA %" PRIu64 "); ignored",
                disk->device, device, e.last_lba, e.first_lba);
      continue;
    }
    if (e.first_lba >= disk->length / ss) {
      vbm_warn (ctx, "%s: %s starts at LBA %" PRIu64 ", beyond the end "
                "of the disk; ignored", disk->device, device, e.first_lba);
      continue;
    }
    if (e.first_lba < g->h.first_usable || e.last_lba > g->h.last_usable)
      vbm_warn (ctx, "%s: %s (LBA %" PRIu64 "-%" PRIu64 ") is outside "
                "the usable area of the GPT (LBA %" PRIu64 "-%" PRIu64 ")",
                disk->device, device, e.first_lba, e.last_lba,
                g->h.first_usable, g->h.last_usable);
    /* start is inside the disk; a huge length saturates and clip()
     * brings it back to the disk.
     */
    start = e.first_lba * ss;
    if (ADD_OVERFLOW (e.last_lba - e.first_lba, (uint64_t) 1, &sectors) ||
        MUL_OVERFLOW (sectors, (uint64_t) ss, &len))
      len = UINT64_MAX;
    if (!clip (ctx, c, device, &start, &len))
      continue;
    if (map_partition (ctx, c, device, start, len, false, &id) == -1)
      return -1;
  }
  return 0;
}

static bool
same_table (const struct vbm_gpt_header *a, const struct vbm_gpt_header *b)
{
  return a->first_usable == b->first_usable &&
    a->last_usable == b->last_usable &&
    a->num_entries == b->num_entries && a->entry_size == b->entry_size &&
    a->entries_crc == b->entries_crc &&
    memcmp (a->disk_guid, b->disk_guid, sizeof a->disk_guid) == 0;
}

/* The logical sector sizes a disk image may have. */
static const size_t sector_sizes[] = { VBM_SECTOR_SIZE, MAX_SECTOR_SIZE };
#define N_SECTOR_SIZES (sizeof sector_sizes / sizeof sector_sizes[0])

/* The sector size forced by the caller, or 0 to detect it. */
static size_t
forced_sector_size (const struct vbm_ctx *ctx)
{
  return ctx->opts ? ctx->opts->sector_size : 0;
}

/* Whether a valid GPT header (signature, CRC, my_lba) is at LBA lba
 * when the disk has ss-byte sectors.
 */
static int
gpt_header_valid (struct vbm_ctx *ctx, const struct vbm_volume *disk,
                  size_t ss, uint64_t lba, bool *valid)
{
  unsigned char sector[MAX_SECTOR_SIZE];
  struct vbm_gpt_header h;
  struct vbm_error why;

  *valid = false;
  if (lba >= disk->length / ss)
    return 0;
  if (read_at (ctx, disk, sector, ss, lba * ss) == -1)
    return -1;
  *valid = vbm_gpt_parse_header (sector, ss, lba, disk->length / ss,
                                 &h, &why) == 0;
  return 0;
}

/* The sector size of a disk with a protective MBR: the first size
 * (512, then 4096) whose primary header at LBA 1 is valid, else whose
 * backup header in the last sector is, else whose LBA 1 at least has
 * the signature (so that the warnings are about the right copies),
 * else 512.  A header checks its own LBA and its CRC covers it, so
 * only a header written for that sector size validates.
 */
static int
gpt_sector_size (struct vbm_ctx *ctx, const struct vbm_volume *disk,
                 size_t *ss)
{
  enum { PRIMARY, BACKUP, SIGNATURE } pass;
  bool found;
  size_t i;

  *ss = forced_sector_size (ctx);
  if (*ss != 0)
    return 0;
  for (pass = PRIMARY; pass <= SIGNATURE; ++pass) {
    for (i = 0; i < N_SECTOR_SIZES; ++i) {
      const size_t size = sector_sizes[i];
      const uint64_t sectors = disk->length / size;
      char sig[8];

      /* Room for the protective MBR, a header and its backup. */
      if (sectors < 3)
        continue;
      if (pass == SIGNATURE) {
        if (read_at (ctx, disk, sig, sizeof sig, size) == -1)
          return -1;
        found = memcmp (sig, "EFI PART", 8) == 0;
      }
      else if (gpt_header_valid (ctx, disk, size,
                                 pass == PRIMARY ? 1 : sectors - 1,
                                 &found) == -1)
        return -1;
      if (found) {
        *ss = size;
        vbm_debug (ctx, "%s: GPT with %zu-byte sectors", disk->device, size);
        return 0;
      }
    }
  }
  *ss = VBM_SECTOR_SIZE;
  return 0;
}

/* Returns 1 if neither copy of the GPT is usable. */
static int
map_gpt (struct vbm_ctx *ctx, const struct vbm_volume *disk)
{
  struct container c = { .vol = disk, .children = empty_vector };
  struct gpt_copy primary = { 0 }, backup = { 0 };
  const struct gpt_copy *use;
  bool backup_expected = true;
  uint64_t disk_sectors, last;
  size_t ss;
  int r = -1;

  if (gpt_sector_size (ctx, disk, &ss) == -1)
    return -1;
  disk_sectors = disk->length / ss;
  last = disk_sectors - 1;

  if (read_gpt_copy (ctx, disk, ss, 1, &primary) == -1)
    goto out;
  /* The primary header knows where its backup is; if it is corrupt,
   * the backup should be in the last sector.
   */
  if (!primary.header_ok)
    backup.lba = last;
  else if (primary.h.alternate_lba > 1 && primary.h.alternate_lba <= last)
    backup.lba = primary.h.alternate_lba;
  else if (primary.h.alternate_lba > last) {
    vbm_warn (ctx, "%s: the backup GPT should be at LBA %" PRIu64
              ", outside the disk (%" PRIu64 " sectors): truncated image?",
              disk->device, primary.h.alternate_lba, disk_sectors);
    backup_expected = false;
  }
  else {
    vbm_warn (ctx, "%s: the primary GPT header gives an invalid backup "
              "LBA (%" PRIu64 "); looking in the last sector",
              disk->device, primary.h.alternate_lba);
    backup.lba = last;
  }
  if (backup_expected &&
      read_gpt_copy (ctx, disk, ss, backup.lba, &backup) == -1)
    goto out;

  if (primary.entries_ok) {
    use = &primary;
    if (backup_expected && !backup.entries_ok)
      vbm_warn (ctx, "%s: the backup GPT is corrupt (%s)",
                disk->device, backup.why.msg);
    else if (backup_expected && !same_table (&primary.h, &backup.h))
      vbm_warn (ctx, "%s: the primary and backup GPT differ; "
                "using the primary", disk->device);
  }
  else if (backup.entries_ok) {
    use = &backup;
    vbm_warn (ctx, "%s: the primary GPT is corrupt (%s); "
              "using the backup GPT at LBA %" PRIu64,
              disk->device, primary.why.msg, backup.lba);
  }
  else {
    vbm_warn (ctx, "%s: the disk has a protective MBR but both copies "
              "of the GPT are corrupt (primary: %s; backup: %s); "
              "no partition table mapped",
              disk->device, primary.why.msg,
              backup_expected ? backup.why.msg : "missing");
    r = 1;
    goto out;
  }

  vbm_debug (ctx, "%s: GPT with %" PRIu32 " entries", disk->device,
             use->h.num_entries);
  if (map_gpt_areas (ctx, &c, ss, &primary, &backup, backup_expected,
                     &use->h) == -1 ||
      map_gpt_partitions (ctx, &c, ss, use) == -1)
    goto out;
  r = finish_container (ctx, &c);
 out:
  free (primary.array);
  free (backup.array);
  region_vector_reset (&c.children);
  return r;
}

/* ---- Detection. ---- */

/* Whether the volume at offset of the disk starts with something a
 * partition may hold: a filesystem we recognise or (extended) an EBR.
 */
static int
starts_volume (struct vbm_ctx *ctx, const struct vbm_volume *disk,
               uint64_t offset, bool extended, bool *found)
{
  unsigned char buf[MAX_SECTOR_SIZE];
  size_t len = MAX_SECTOR_SIZE;
  struct vbm_error why;
  struct vbm_ebr ebr;

  *found = false;
  if (offset >= disk->length)
    return 0;
  if (disk->length - offset < len)
    len = disk->length - offset;
  memset (buf, 0, sizeof buf);
  if (read_at (ctx, disk, buf, len, offset) == -1)
    return -1;
  if (extended)
    *found = len >= VBM_SECTOR_SIZE && !vbm_fs_boot_sector (buf) &&
      vbm_ebr_parse (buf, &ebr, &why) == 0 && ebr.has_logical;
  else
    *found = vbm_fs_magic (buf, len, false) ||
      (len >= VBM_SECTOR_SIZE && vbm_fs_boot_sector (buf));
  return 0;
}

/* The sector size of an MBR: the table does not say.  512, as Linux
 * reads an image, unless read with 512-byte sectors no partition
 * starts with a filesystem or an EBR, while read with 4096-byte
 * sectors every partition lies inside the disk and one does: then a
 * 4096-byte sector disk is the likely story, and a warning says it
 * is a guess.
 */
static int
mbr_sector_size (struct vbm_ctx *ctx, const struct vbm_volume *disk,
                 const struct vbm_mbr *mbr, size_t *ss)
{
  unsigned found512 = 0, found4k = 0, outside4k = 0;
  size_t i;
  bool found;

  *ss = VBM_SECTOR_SIZE;
  for (i = 0; i < VBM_MBR_ENTRIES; ++i) {
    const struct vbm_mbr_entry *e = &mbr->entry[i];
    bool extended = vbm_mbr_type_extended (e->type);
    /* 32 bit fields times 4096: no overflow. */
    uint64_t start4k = (uint64_t) e->start * MAX_SECTOR_SIZE;
    uint64_t end4k = start4k + (uint64_t) e->sectors * MAX_SECTOR_SIZE;

    if (vbm_mbr_entry_empty (e))
      continue;
    if (starts_volume (ctx, disk, (uint64_t) e->start * VBM_SECTOR_SIZE,
                       extended, &found) == -1)
      return -1;
    found512 += found;
    if (e->start == 0 || end4k > disk->length) {
      outside4k++;
      continue;
    }
    if (starts_volume (ctx, disk, start4k, extended, &found) == -1)
      return -1;
    found4k += found;
  }
  if (found512 == 0 && found4k > 0 && outside4k == 0) {
    *ss = MAX_SECTOR_SIZE;
    vbm_warn (ctx, "%s: the MBR partitions hold filesystems only when "
              "read with %d-byte sectors: guessing that the disk has "
              "%d-byte sectors (set the sector size to be sure)",
              disk->device, MAX_SECTOR_SIZE, MAX_SECTOR_SIZE);
  }
  return 0;
}

static bool
mbr_empty (const struct vbm_mbr *mbr)
{
  size_t i;

  for (i = 0; i < VBM_MBR_ENTRIES; ++i)
    if (!vbm_mbr_entry_empty (&mbr->entry[i]))
      return false;
  return true;
}

/* An MBR with no partitions may be boot code in front of a
 * filesystem that starts at sector 0 (ext's first 1024 bytes are
 * free for it).
 */
static int
whole_disk_fs (struct vbm_ctx *ctx, const struct vbm_volume *disk,
                 bool *found)
{
  unsigned char buf[4096];
  size_t len = disk->length < sizeof buf ? disk->length : sizeof buf;

  if (read_at (ctx, disk, buf, len, 0) == -1)
    return -1;
  *found = vbm_fs_magic (buf, len, true);
  return 0;
}

int
vbm_map_volumes (struct vbm_ctx *ctx, const struct vbm_volume *disk)
{
  unsigned char sector[VBM_SECTOR_SIZE];
  size_t ss = forced_sector_size (ctx);
  struct vbm_error why;
  struct vbm_mbr mbr;
  bool fs = false;
  int r;

  /* Under 1 KiB nothing fits: an MBR needs a sector after it, ext
   * puts its superblock at 1024, an NTFS MFT record is 1 KiB.  Say so,
   * or the map would be a bare device with no word why.
   */
  if (disk->length < 2 * VBM_SECTOR_SIZE) {
    vbm_warn (ctx, "%s: no partition table or filesystem found (the disk "
              "is only %" PRIu64 " byte%s)", disk->device, disk->length,
              disk->length == 1 ? "" : "s");
    return 0;
  }
  if (disk->length / (ss ? ss : VBM_SECTOR_SIZE) < 2)
    return map_contents (ctx, disk);
  if (read_at (ctx, disk, sector, sizeof sector, 0) == -1)
    return -1;
  if (vbm_mbr_parse (sector, &mbr, &why) == -1) {
    vbm_debug (ctx, "%s: no partition table: %s", disk->device, why.msg);
    return map_contents (ctx, disk);
  }
  if (vbm_mbr_protective (&mbr)) {
    r = map_gpt (ctx, disk);
    return r == 1 ? map_contents (ctx, disk) : r;
  }
  /* A table plausible with 4096-byte sectors is with 512 too. */
  if (!vbm_mbr_plausible (sector, &mbr,
                          disk->length / (ss ? ss : VBM_SECTOR_SIZE), &why)) {
    vbm_debug (ctx, "%s: no partition table: %s", disk->device, why.msg);
    return map_contents (ctx, disk);
  }
  if (mbr_empty (&mbr)) {
    if (whole_disk_fs (ctx, disk, &fs) == -1)
      return -1;
    if (fs) {
      vbm_debug (ctx, "%s: empty MBR in front of a filesystem",
                 disk->device);
      return map_contents (ctx, disk);
    }
  }
  else if (ss == 0 && mbr_sector_size (ctx, disk, &mbr, &ss) == -1)
    return -1;
  return map_mbr (ctx, disk, ss ? ss : VBM_SECTOR_SIZE, &mbr);
}
