/* The NTFS mapper: state shared by ntfs*.c.
 *
 * Phases (ntfs.c runs them in this order):
 *   1. open the volume with libntfs-3g through our device operations
 *      (ntfs-io.c), falling back to a backup boot sector (ntfs-boot.c);
 *   2. names: walk the directories from the root (ntfs-names.c);
 *   3. files: each named MFT record becomes an object (system files
 *      are metadata), each of its streams mapped from its runlist
 *      (ntfs-files.c);
 *   3b. deleted files: MFT records not in use with an intact $DATA
 *      run list, mapped as former extents (ntfs-deleted.c);
 *   4. accounting: $Bitmap goes to the accounting core, whose sweep
 *      makes clusters nobody claimed free space or <unaccounted>; the
 *      backup boot sector and the bytes past the last cluster are
 *      mapped (ntfs.c).
 *
 * Everything goes to the map through the accounting core (fsmap.h), in
 * clusters: it maps a cluster at most once even on a corrupt volume.
 */
#ifndef VBM_NTFS_MAP_H
#define VBM_NTFS_MAP_H

/* The ntfs-3g headers include the system headers they need only if
 * config.h (ours, as they find it) says they exist: include them
 * first.  Every ntfs*.c includes this file before any ntfs-3g header.
 */
#include <byteswap.h>
#include <endian.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/param.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <time.h>

#include <ntfs-3g/types.h>
#include <ntfs-3g/volume.h>
#include <ntfs-3g/runlist.h>

#include "fsmap.h"
#include "vector.h"

/* ---- ntfs-io.c: device operations reading through vbm_volume_pread. */

#define NTFS_IO_WINDOWS 4
#define NTFS_IO_MIN (4 * 1024)          /* a window's first load */
#define NTFS_IO_MAX (1024 * 1024)       /* and its largest */
#define NTFS_IO_WINDOWED (4 * 1024)     /* reads of at most this many bytes */

struct vbm_ntfs_io_target {
  struct vbm_ctx *ctx;
  const struct vbm_volume *vol;
  /* If set, read in place of the first sector (the backup boot
   * sector, when the primary is unusable).
   */
  const unsigned char *boot;
  s64 pos;                      /* for seek and read */
  /* Small reads (MFT records, index blocks) are served from a few
   * windows.  A read just past a window continues it: the window
   * slides on and grows, up to NTFS_IO_MAX (a stream read in order,
   * as the MFT is when the files are mapped, costs few big reads).
   * Other misses load NTFS_IO_MIN bytes into the least recently used.
   */
  struct vbm_ntfs_io_window {
    unsigned char *data;        /* NTFS_IO_MAX bytes, or NULL */
    uint64_t start, len;        /* len bytes valid at volume offset start */
    uint64_t last_use;
  } win[NTFS_IO_WINDOWS];
  uint64_t tick;
  /* A read of the source failed: fatal, reported by ntfs_map_volume. */
  bool io_failed;
  struct vbm_error io_error;
};

/* Mounts read-only through target, or returns NULL with errno set. */
extern ntfs_volume *vbm_ntfs_mount (struct vbm_ntfs_io_target *target);
/* Frees the read-ahead windows (after unmounting). */
extern void vbm_ntfs_io_free (struct vbm_ntfs_io_target *target);

/* ---- Boot sectors (ntfs-boot.c). ---- */

/* Does buf, the first len bytes of a volume, hold an NTFS boot sector? */
extern bool ntfs_magic (const unsigned char *buf, size_t len);
/* Is there an NTFS backup boot sector where one is looked for (the
 * last sector first)?
 */
extern bool ntfs_probe_backup (struct vbm_ctx *ctx,
                               const struct vbm_volume *vol);

struct ntfs_backup_search {
  unsigned phase;               /* which kind of place, 0 first */
  uint64_t from;                /* the scan of boundaries: the last one */
};

/* Finds the next plausible backup boot sector of vol (see
 * ntfs-boot.c for where it looks), reads it into sec (512 bytes) and
 * sets *at to its byte offset in the volume.  false when there is no
 * more.  The search is bounded.
 */
extern bool ntfs_next_backup (struct vbm_ctx *ctx,
                              const struct vbm_volume *vol,
                              struct ntfs_backup_search *s,
                              unsigned char *sec, uint64_t *at);

/* ---- Names (ntfs-names.c). ---- */

/* In discovery order: the first name of a record is its primary. */
struct ntfs_name {
  uint64_t mref;                /* MFT reference (with sequence number) */
  char *path;                   /* "/dir/file", "/" for the root */
  bool dir;                     /* a directory, per its index entry */
};
DEFINE_VECTOR_TYPE (ntfs_name_vector, struct ntfs_name);
DEFINE_VECTOR_TYPE (ntfs_index_vector, uint32_t);
DEFINE_VECTOR_TYPE (ntfs_block_vector, char *);

/* ---- The mapper. ---- */

struct ntfs_map {
  struct vbm_ctx *ctx;
  const struct vbm_volume *vol;
  struct vbm_fsmap *fm;         /* the accounting core */
  ntfs_volume *nv;
  uint64_t cs;                  /* cluster size */
  uint64_t nclusters;           /* clusters of the filesystem */
  uint64_t fs_bytes;            /* nclusters * cs */
  uint64_t total_sectors;       /* per the boot sector */
  /* Clusters we track: those of the filesystem starting inside the
   * volume (a truncated image has fewer).
   */
  uint64_t tracked;
  int64_t boot_obj;             /* <$Boot>, for the backup boot sector */

  ntfs_name_vector names;       /* in discovery order */
  ntfs_index_vector order;      /* indexes of names by record, then order */
  /* The paths of names, carved out of big blocks: one allocation per
   * block rather than per name.
   */
  ntfs_block_vector name_blocks;
  char *name_free;              /* the rest of the last block */
  size_t name_left;
};

/* ntfs.c */
/* Warnings go through the core: prefixed with the device, capped. */
#define ntfs_warn(m, ...) vbm_fsmap_warn ((m)->fm, __VA_ARGS__)

/* ntfs-names.c */
extern int ntfs_collect_names (struct ntfs_map *m);
extern void ntfs_free_names (struct ntfs_map *m);

/* ntfs-files.c */
extern int ntfs_map_files (struct ntfs_map *m);

/* ---- Base records read without libntfs-3g (ntfs-record.c). ---- */

/* An attribute, copied out of its record. */
struct ntfs_attr_info {
  ATTR_TYPES type;
  ATTR_FLAGS flags;
  ntfschar name[256];
  unsigned name_len;
  bool resident;
  uint64_t record;              /* resident: MFT record holding it */
  uint64_t value_off;           /* resident: value offset in the record */
  uint16_t usa_ofs;             /* resident: the update sequence array */
  uint64_t value_len;
  uint64_t data_size;           /* non-resident, from the first extent */
  uint64_t init_size;           /* non-resident (read by ntfs-record.c) */
  runlist_element *rl;          /* decoded by ntfs-record.c, or NULL */
};

/* $MFT read in big pieces, in order, for the records. */
struct ntfs_mft_reader {
  unsigned char *buf;           /* NTFS_MFT_CHUNK bytes, or NULL */
  uint64_t start, len;          /* bytes of $MFT in buf */
  unsigned char *rec;           /* one record, fixed up */
};
#define NTFS_MFT_CHUNK (256 * 1024)

/* What the fast path found in a base record. */
struct ntfs_record_info {
  bool dir;
  FILE_ATTR_FLAGS file_flags;   /* $STANDARD_INFORMATION's */
};

/* Reads the base record mref itself and collects its attributes into
 * attrs (decoding the runlists), when it is a plain one: in use,
 * intact, no attribute list, every attribute consistent per
 * libntfs-3g's own checks, nothing compressed, sparse or encrypted,
 * each non-resident attribute alone of its type and with a complete
 * runlist.  Then what libntfs-3g would give is known exactly.
 * 1: done, 0: not plain (nothing changed: use libntfs-3g), -1: fatal.
 */
extern int ntfs_read_plain_record (struct ntfs_map *m,
                                   struct ntfs_mft_reader *r,
                                   uint64_t nrecords, uint64_t mref,
                                   struct ntfs_record_info *info,
                                   struct ntfs_attr_info *attrs,
                                   size_t *nattrs);
extern void ntfs_free_runlists (struct ntfs_attr_info *attrs, size_t n);
extern void ntfs_mft_reader_free (struct ntfs_mft_reader *r);
/* Points *rec at record no as stored (not fixed up) in r's buffer: 1,
 * 0 if it cannot be read (outside $MFT's runs or the volume), -1 fatal.
 */
extern int ntfs_load_record (struct ntfs_map *m, struct ntfs_mft_reader *r,
                             uint64_t no, const unsigned char **rec);

/* ntfs-deleted.c: records not in use whose $DATA runs are intact. */
extern int ntfs_map_deleted (struct ntfs_map *m);

#endif /* VBM_NTFS_MAP_H */
