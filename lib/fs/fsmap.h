/* The accounting core: the one way a filesystem reader puts what it
 * finds into the map.
 *
 * A reader only says what it reads in its filesystem:
 *   - "units [u, u+n) are object X at offset Y with these flags"
 *     (vbm_fsmap_units), in the filesystem's own allocation unit
 *     (512-byte sectors up to clusters of megabytes), or "these bytes
 *     of the volume are object X" (vbm_fsmap_bytes: inline data,
 *     records inside a table);
 *   - "this is metadata <name>" (vbm_fsmap_meta);
 *   - "units [u, u+n) held deleted object X" (vbm_fsmap_former): not
 *     claimed, never hiding the current owner;
 *   - "these units are allocated per the filesystem's own bitmap"
 *     (vbm_fsmap_allocated), then runs the final sweep;
 *   - warnings (vbm_fsmap_warn).
 * The core keeps the rest, identical for every filesystem:
 *   - the claim bitmap: a unit is mapped at most once, the first owner
 *     wins; conflicts and units outside the filesystem are counted per
 *     object and reported as warnings by vbm_fsmap_end_object;
 *   - coalescing of contiguous units of one object into one extent;
 *   - warnings prefixed with the device and capped per volume
 *     (VBM_MAX_VOLUME_WARNINGS);
 *   - named metadata objects, created on first use;
 *   - the final sweep: units nobody claimed become <free space>,
 *     <cluster slack> or <unaccounted>, and the volume's bytes past the
 *     filesystem <beyond filesystem>.
 *
 * Calls flow one way: a reader calls the core, the core writes to the
 * map store through the mapping context (ctx.h); the core never calls
 * a reader.
 *
 * A reader's life:
 *   fm = vbm_fsmap_new (ctx, vol);          warnings work from here on
 *   vbm_fsmap_set_geometry (fm, &geo);      once the superblock is read
 *   ... objects, units, bytes, end_object ...
 *   vbm_fsmap_allocated (...) for the allocated units;
 *   vbm_fsmap_sweep (fm, &unclaimed);        then warn about the counts
 *   vbm_fsmap_beyond (fm, fs_bytes, 0, 0);  if the volume is bigger
 *   vbm_fsmap_finish (fm);  vbm_fsmap_free (fm);
 *
 * Every function returning int or int64_t returns -1 on a fatal error
 * (ctx->err set: the store failed, out of memory); corrupt metadata is
 * never fatal, it gives warnings.
 */
#ifndef VBM_FSMAP_H
#define VBM_FSMAP_H

#include <stdbool.h>
#include <stdint.h>

#include "ctx.h"

struct vbm_fsmap;

/* Where the filesystem's units are. */
struct vbm_fsmap_geometry {
  /* In warnings: "3 block(s) already belong to another object",
   * "2 cluster(s) outside the filesystem (not mapped)".
   */
  const char *unit_name;        /* "block", "cluster", "sector" */
  const char *outside;          /* "the filesystem" */
  uint64_t unit_size;           /* bytes */
  uint64_t base;                /* volume byte offset of unit 0 */
  /* Units a file may own: [first_unit, units).  Others are counted as
   * outside.  units may reach past the volume's end (a truncated
   * image): those are claimed but not written to the map.
   */
  uint64_t first_unit;
  uint64_t units;
  /* Units per allocation cluster (ext4 bigalloc), 0 or 1 for none: an
   * allocated but unclaimed unit in a cluster holding claimed units is
   * <cluster slack>, not <unaccounted>.  Clusters start at
   * cluster_start (FAT's first data sector, with sectors as units) and
   * every cluster_units units after it.
   */
  uint64_t cluster_units;
  uint64_t cluster_start;
};

/* What the sweep found, in units, for the reader's own warnings. */
struct vbm_fsmap_unclaimed {
  uint64_t free;                /* unallocated, unclaimed */
  uint64_t unaccounted;         /* allocated, unclaimed */
  uint64_t slack;               /* allocated, unclaimed, in a used cluster */
  uint64_t claimed_free;        /* claimed, yet free per the fs's bitmap */
};

/* ---- Life. ---- */

/* NULL (ctx->err set) if out of memory. */
extern struct vbm_fsmap *vbm_fsmap_new (struct vbm_ctx *ctx,
                                        const struct vbm_volume *vol);
/* Once, before any unit is mapped.  Nothing is allocated here: the
 * bitmaps grow in chunks where units are claimed.
 */
extern void vbm_fsmap_set_geometry (struct vbm_fsmap *fm,
                                    const struct vbm_fsmap_geometry *geo);
/* Writes what is pending and says how many warnings were cut. */
extern int vbm_fsmap_finish (struct vbm_fsmap *fm);
extern void vbm_fsmap_free (struct vbm_fsmap *fm);

/* ---- Messages. ---- */

/* A warning about the volume, prefixed with its device, capped. */
extern void vbm_fsmap_warn (struct vbm_fsmap *fm, const char *fs, ...)
  __attribute__ ((format (printf, 2, 3)));
extern void vbm_fsmap_progress (struct vbm_fsmap *fm, uint64_t done,
                                uint64_t total);

/* ---- Objects. ---- */

/* An object of the filesystem (kind VBM_KIND_*, flags VBM_OBJECT_*). */
extern int64_t vbm_fsmap_object (struct vbm_fsmap *fm, char kind,
                                 const char *path, uint64_t inode,
                                 uint64_t size, unsigned flags);
/* Another name (hard link) of an object. */
extern int vbm_fsmap_name (struct vbm_fsmap *fm, int64_t object,
                           const char *path);
/* The metadata object called name ("<inode table>"), created with size
 * on first use; the same id afterwards.  name must stay valid (a
 * string literal).
 */
extern int64_t vbm_fsmap_meta (struct vbm_fsmap *fm, const char *name,
                               uint64_t size);
/* Reports the conflicts counted since the last call, for what (the
 * object's path), as warnings.
 */
extern void vbm_fsmap_end_object (struct vbm_fsmap *fm, const char *what);

/* ---- Extents. ---- */

/* Maps units [unit, unit+n) to object at object offset off (-1 for
 * none: tree blocks, free space).  Units outside the filesystem or
 * already claimed are skipped and counted; the rest are claimed, and
 * contiguous ones coalesce with what the object had just before.
 * Returns the number of units mapped.
 */
extern int64_t vbm_fsmap_units (struct vbm_fsmap *fm, int64_t object,
                                uint64_t unit, uint64_t n, int64_t off,
                                unsigned flags);
/* A deleted object's former units [unit, unit+n), at object offset
 * off: mapped with VBM_EXTENT_FORMER, neither claimed nor checked
 * against claims (they overlap free space or the live object that
 * reused them), so the current owners and the sweep are unchanged.
 * Units outside the filesystem are skipped.  Returns the number of
 * units mapped.
 */
extern int64_t vbm_fsmap_former (struct vbm_fsmap *fm, int64_t object,
                                 uint64_t unit, uint64_t n, int64_t off);
/* Claims one unit without mapping it (its bytes are then mapped with
 * vbm_fsmap_bytes); false, counted, if outside or already claimed.
 */
extern bool vbm_fsmap_claim (struct vbm_fsmap *fm, uint64_t unit);
/* Maps bytes [start, start+len) of the volume (not of unit 0) as they
 * are: neither claimed nor coalesced, clipped to the volume.
 */
extern int vbm_fsmap_bytes (struct vbm_fsmap *fm, int64_t object,
                            uint64_t start, uint64_t len, int64_t off,
                            unsigned flags);
/* Writes the pending run of units. */
extern int vbm_fsmap_flush (struct vbm_fsmap *fm);

/* The stream being mapped by vbm_fsmap_units (object offset >= 0):
 * its bytes before valid_end are data, those up to alloc_end are
 * VBM_EXTENT_UNWRITTEN, the rest VBM_EXTENT_PAST_EOF; the split may
 * fall inside a unit.  vbm_fsmap_end_stream: no split.
 */
extern void vbm_fsmap_stream (struct vbm_fsmap *fm, uint64_t valid_end,
                              uint64_t alloc_end);
extern void vbm_fsmap_end_stream (struct vbm_fsmap *fm);

/* ---- The final sweep. ---- */

/* Units [unit, unit+n) are allocated per the filesystem's own bitmap
 * (an unreadable bitmap: say allocated, the safe side).  bits: the
 * same from an LSB-first bitmap of nbits bits, as ext2, NTFS and
 * exFAT store theirs.
 */
extern int vbm_fsmap_allocated (struct vbm_fsmap *fm, uint64_t unit,
                                uint64_t n);
extern int vbm_fsmap_allocated_bits (struct vbm_fsmap *fm, uint64_t unit,
                                     const unsigned char *bits,
                                     uint64_t nbits);
/* Maps the unclaimed units of [first_unit, units) inside the volume:
 * <free space> where not allocated, <cluster slack> or <unaccounted>
 * where allocated, each object created with its final size.  The
 * counts (for the reader's warnings) go to *out.
 */
extern int vbm_fsmap_sweep (struct vbm_fsmap *fm,
                            struct vbm_fsmap_unclaimed *out);
/* Maps the volume's bytes from start to its end as <beyond
 * filesystem>, except [hole, hole+hole_len) that the reader maps
 * itself (a backup boot sector).  Nothing if that leaves nothing.
 */
extern int vbm_fsmap_beyond (struct vbm_fsmap *fm, uint64_t start,
                             uint64_t hole, uint64_t hole_len);

#endif /* VBM_FSMAP_H */
