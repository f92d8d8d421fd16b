/* libvirtbmap: map every byte of a disk image to the object that owns it.
 *
 * The data flow: a source (raw file, later xz, NBD) is scanned for
 * volumes (partition tables), each volume for a filesystem, and every
 * object found (device, partition, metadata, directory, file, free
 * space) is written with its extents to a map store (an SQLite file,
 * schema in libvirtbmap(3)).
 *
 * Errors: functions that can fail take a struct vbm_error * and return
 * -1 or NULL; the error holds an errno value and a message.  The
 * library never prints and never exits.
 */
#ifndef VIRTBMAP_H
#define VIRTBMAP_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define VBM_ERROR_MAX 1024

struct vbm_error {
  int errnum;                   /* errno value, 0 if none applies */
  char msg[VBM_ERROR_MAX];      /* human readable, no trailing newline */
};

/* Object kinds, as single letters (the original virt-bmap's letters
 * plus metadata and free space).
 */
#define VBM_KIND_DEVICE     'v'  /* whole disk, /dev/sda */
#define VBM_KIND_PARTITION  'p'  /* partition, /dev/sda1 */
#define VBM_KIND_LV         'l'  /* logical volume */
#define VBM_KIND_METADATA   'm'  /* partition tables, filesystem metadata */
#define VBM_KIND_DIRECTORY  'd'
#define VBM_KIND_FILE       'f'  /* regular file, symlink, special file */
#define VBM_KIND_FREE       'u'  /* unused: free space, gaps */

/* Extent flags. */
#define VBM_EXTENT_UNWRITTEN  0x01 /* allocated but reads as zeroes */
#define VBM_EXTENT_PAST_EOF   0x02 /* allocated beyond the object's size */
#define VBM_EXTENT_INLINE     0x04 /* data stored inside a metadata record */
#define VBM_EXTENT_TREE       0x08 /* extent tree / indirect block */
#define VBM_EXTENT_XATTR      0x10 /* extended attribute block */
#define VBM_EXTENT_COMPRESSED 0x20 /* stored compressed (whole units) */
#define VBM_EXTENT_ENCRYPTED  0x40 /* stored encrypted (NTFS EFS): ciphertext */
#define VBM_EXTENT_SHARED     0x80 /* shared with other files (XFS reflink) */
#define VBM_EXTENT_FORMER    0x100 /* where a deleted object's data was: the
                                    * bytes now belong to the other objects
                                    * here (free space, a live file) */

/* Object flags. */
#define VBM_OBJECT_UNREACHABLE 0x01 /* in use but no name leads to it */
#define VBM_OBJECT_SYMLINK     0x02
#define VBM_OBJECT_SPECIAL     0x04 /* device node, fifo, socket */
#define VBM_OBJECT_DELETED     0x08

/* ---- Sources: read a disk image. ---- */

/* Opaque: created by vbm_source_open, read through the functions
 * below, freed by vbm_source_close.
 */
struct vbm_source;

/* What reading a source has cost so far (vbm_source_get_stats).
 *
 * The caller sets struct_size to sizeof (struct vbm_source_stats)
 * before the call (VBM_SOURCE_STATS_INIT does): fields may be added at
 * the end in later versions.  The library fills only the fields that
 * fit both in struct_size and in its own struct, and leaves that
 * smaller size in struct_size: the fields below it are the ones
 * filled.
 */
struct vbm_source_stats {
  size_t struct_size;           /* set by the caller, see above */
  uint64_t blocks_decoded;      /* compressed blocks decompressed */
  uint64_t bytes_decoded;       /* bytes they decompressed to */
  uint64_t restarts;            /* streamed: decoding began again */
  int streamed;                 /* 1: a single decoder reads forward, and
                                 * reads behind a window restart it:
                                 * serve it in order, one connection */
};
#define VBM_SOURCE_STATS_INIT \
  { .struct_size = sizeof (struct vbm_source_stats) }

/* Opens path with the named format ("raw", "xz", "e01", "nbd",
 * "qcow2" and the other formats qemu-nbd reads), or detects it if
 * format is NULL.
 */
extern struct vbm_source *vbm_source_open (const char *path,
                                           const char *format,
                                           struct vbm_error *err);
/* The same, calling warning (if not NULL) with what the caller should
 * know about reading this image: an xz image that is one block too big
 * to cache is streamed, and says how to recompress it.
 */
extern struct vbm_source *vbm_source_open_warn (const char *path,
                                                const char *format,
                                                void (*warning) (void *opaque,
                                                                 const char *msg),
                                                void *opaque,
                                                struct vbm_error *err);
/* Reads exactly count bytes at offset; -1 (err set) on error or if
 * the range is not inside the image.
 */
extern int vbm_source_pread (struct vbm_source *src, void *buf,
                             size_t count, uint64_t offset,
                             struct vbm_error *err);
extern void vbm_source_close (struct vbm_source *src);
/* Size of the image in bytes. */
extern uint64_t vbm_source_size (const struct vbm_source *src);
/* The path (or URI) as given to vbm_source_open; lives as long as
 * the source.
 */
extern const char *vbm_source_path (const struct vbm_source *src);
/* The format read: "raw", "xz", "e01", "nbd", "qcow2", ...; static. */
extern const char *vbm_source_format (const struct vbm_source *src);
/* Modification time of the image in seconds since the epoch, or -1
 * if unknown (NBD).
 */
extern int64_t vbm_source_mtime (const struct vbm_source *src);
/* Fills stats (stats->struct_size set by the caller; nothing is
 * filled if it is smaller than the first version); safe while other
 * threads read.
 */
extern void vbm_source_get_stats (struct vbm_source *src,
                                  struct vbm_source_stats *stats);

/* Where the image holds data, for sources that know: an NBD URI or a
 * qemu format (qcow2 ...) whose server reports base:allocation.  Calls
 * fn for the extents of [offset, offset+count), in order, with flags
 * VBM_EXTENT_HOLE (not allocated) and VBM_EXTENT_ZERO (reads as
 * zeroes); the first may start before offset, the last end after it.
 * fn returns 0 for more, 1 to stop.  Returns 0, or -1 with err set:
 * err->errnum ENOTSUP when the source does not know (then read it all
 * as data).
 */
#define VBM_EXTENT_HOLE 1
#define VBM_EXTENT_ZERO 2
typedef int (*vbm_extent_fn) (void *opaque, uint64_t offset,
                              uint64_t length, unsigned flags);
extern int vbm_source_extents (struct vbm_source *src, uint64_t count,
                               uint64_t offset, vbm_extent_fn fn,
                               void *opaque, struct vbm_error *err);

/* The acquisition hashes of an evidence file (E01), stored and
 * computed over the media, as lowercase hex; "" where the image stores
 * none.  struct_size as for vbm_source_stats.
 */
struct vbm_source_digests {
  size_t struct_size;           /* set by the caller */
  char stored_md5[33];
  char md5[33];
  char stored_sha1[41];
  char sha1[41];
};
#define VBM_SOURCE_DIGESTS_INIT \
  { .struct_size = sizeof (struct vbm_source_digests) }

typedef void (*vbm_progress_fn) (void *opaque, uint64_t done,
                                 uint64_t total);

/* Reads the whole media and checks it against the hashes the image
 * stores (MD5, and SHA-1 when there is one), calling progress (if not
 * NULL) with the bytes read so far.  Returns 0 if every stored hash
 * matches; -1 with err set otherwise: errnum EBADMSG on a mismatch
 * (both values in the message) or a chunk failing its checksum,
 * ENODATA if the image stores no hash, ENOTSUP for formats that
 * cannot store one.  d (if not NULL) is filled in all these cases.
 */
extern int vbm_source_verify (struct vbm_source *src,
                              struct vbm_source_digests *d,
                              vbm_progress_fn progress, void *opaque,
                              struct vbm_error *err);

/* What identifies a virtual disk, whatever holds it (a raw file, its
 * qcow2 or xz, an NBD export of it): "id1:sha256:" and the SHA-256 of
 * its size, its first and last MiB and 16 blocks of 4 KiB spread
 * evenly between, as 64 hex digits.  About 2 MiB is read, whatever
 * the disk's size, in ascending order; another image of the same
 * size differs somewhere in it in practice, though not in principle
 * (two images differing only elsewhere get the same identity).
 * vbm_disk_identity reads a disk of size bytes through pread, which
 * returns 0 or an errno value.  The map stores each disk's identity
 * (vbm_disk_info.identity).
 */
#define VBM_IDENTITY_LEN 80
typedef int (*vbm_disk_pread_fn) (void *opaque, void *buf, uint32_t count,
                                  uint64_t offset);
extern int vbm_disk_identity (vbm_disk_pread_fn pread, void *opaque,
                              uint64_t size, char identity[VBM_IDENTITY_LEN],
                              struct vbm_error *err);
extern int vbm_source_identity (struct vbm_source *src,
                                char identity[VBM_IDENTITY_LEN],
                                struct vbm_error *err);

/* ---- Building a map. ----
 *
 * An opaque handle holds the options:
 *
 *   struct vbm_build *b = vbm_build_new (&err);
 *   vbm_build_set_warning_callback (b, on_warning, ui);
 *   ...
 *   r = vbm_build_map (b, "disk.bmap", disks, ndisks, &stats, &err);
 *   vbm_build_free (b);
 *
 * New options come as new functions; a handle may build several maps.
 */
struct vbm_build;

/* What a build found and wrote.  As with vbm_source_stats, the caller
 * sets struct_size (VBM_STATS_INIT); later versions add fields at the
 * end.
 */
struct vbm_stats {
  size_t struct_size;           /* set by the caller */
  unsigned disks;
  unsigned partitions;
  unsigned filesystems;
  uint64_t directories;
  uint64_t files;
  uint64_t objects;
  uint64_t extents;
  unsigned warnings;
  /* Since 1.1: with vbm_build_set_hashes. */
  uint64_t hashed_files;
  uint64_t not_hashed;          /* compressed, encrypted, unreadable... */
  uint64_t hashed_bytes;        /* read from the disks to hash them */
};
#define VBM_STATS_INIT { .struct_size = sizeof (struct vbm_stats) }

/* A handle with the defaults: no callbacks, not verbose, sector size
 * detected.  NULL (err set) if out of memory.
 */
extern struct vbm_build *vbm_build_new (struct vbm_error *err);
extern void vbm_build_free (struct vbm_build *b);

/* Called for each non-fatal problem (corrupt metadata, clipped
 * extents); fn NULL for none.
 */
extern void vbm_build_set_warning_callback (struct vbm_build *b,
                                            void (*fn) (void *opaque,
                                                        const char *msg),
                                            void *opaque);
/* Called now and then with the work done and the work to do, in
 * arbitrary units; fn NULL for none.
 */
extern void vbm_build_set_progress_callback (struct vbm_build *b,
                                             void (*fn) (void *opaque,
                                                         uint64_t done,
                                                         uint64_t total),
                                             void *opaque);
/* Called with debugging messages while verbose is set; fn NULL for
 * none.
 */
extern void vbm_build_set_debug_callback (struct vbm_build *b,
                                          void (*fn) (void *opaque,
                                                      const char *msg),
                                          void *opaque);
extern void vbm_build_set_verbose (struct vbm_build *b, int verbose);
/* Logical sector size of the disks, in which partition tables count:
 * 512 or 4096, or 0 (the default) to detect it (GPT: the size at
 * which a header validates; MBR: 512 unless the partitions only make
 * sense with 4096).  -1 (err set, EINVAL) for any other value.
 */
extern int vbm_build_set_sector_size (struct vbm_build *b, unsigned size,
                                      struct vbm_error *err);

/* Per-file hashes (since 1.1): algorithms is a set of VBM_HASH_*, 0
 * for none (the default).  Every regular file is hashed from the map's
 * own extents once the map is built, the disks read once in disk
 * order; holes and unwritten ranges hash as zeroes, bytes past the end
 * of the file are not hashed, and a compressed or encrypted file is
 * recorded as not hashed.  -1 (err set, EINVAL) for an unknown bit.
 */
#define VBM_HASH_MD5    0x1
#define VBM_HASH_SHA1   0x2
#define VBM_HASH_SHA256 0x4
extern int vbm_build_set_hashes (struct vbm_build *b, unsigned algorithms,
                                 struct vbm_error *err);

/* At most this many disks in one map (ndisks of vbm_build_map): what
 * the in-memory index and bmaplog take.
 */
#define VBM_MAX_DISKS 255

/* Maps the disks (already opened) into a new map file at output and,
 * on success, fills stats if not NULL (stats->struct_size set by the
 * caller).  The file is written to a temporary name and renamed into
 * place only on success; on failure nothing is left behind.  More
 * than VBM_MAX_DISKS disks: an error (E2BIG), no file.
 */
extern int vbm_build_map (struct vbm_build *b, const char *output,
                          struct vbm_source **disks, size_t ndisks,
                          struct vbm_stats *stats,
                          struct vbm_error *err);

/* ---- Reading a map. ---- */

struct vbm_map;

/* An extent of an object.  The library passes its own to callbacks,
 * with struct_size set to the size it knows (fields past it are not
 * there); for vbm_index_lookup the caller sets struct_size
 * (VBM_HIT_INIT), as for vbm_stats.
 */
struct vbm_hit {
  size_t struct_size;
  unsigned disk;                /* 0 for the first disk */
  char kind;
  const char *device;           /* /dev/sda1 */
  const char *path;             /* file path or description, may be NULL */
  uint64_t inode;
  uint64_t object_size;
  unsigned object_flags;
  uint64_t start, end;          /* disk range of the extent, end exclusive */
  int64_t object_offset;        /* offset of start inside the object, -1 if none */
  unsigned extent_flags;
  int64_t object_id;
  /* Since 1.1: "ext4", "ntfs", "vfat"... for a device, partition or LV
   * holding a filesystem, else NULL (and from vbm_index_lookup).
   */
  const char *fstype;
  /* Since 1.2, from vbm_index_lookup only (else NULL): the path of a
   * deleted object whose data was here (VBM_EXTENT_FORMER) under the
   * current owner, NULL if none.
   */
  const char *former;
};
#define VBM_HIT_INIT { .struct_size = sizeof (struct vbm_hit) }

extern struct vbm_map *vbm_map_open (const char *path, struct vbm_error *err);
extern void vbm_map_close (struct vbm_map *map);

/* A disk as recorded in the map (provenance).  The caller sets
 * struct_size (VBM_DISK_INFO_INIT), as for vbm_stats.
 */
struct vbm_disk_info {
  size_t struct_size;
  unsigned disk;
  char device[32];              /* /dev/sda */
  char path[4096];              /* the image as given when mapping */
  char format[16];
  uint64_t size;
  int64_t mtime;                /* -1 if unknown */
  char identity[VBM_IDENTITY_LEN]; /* vbm_source_identity's when the map
                                 * was built, "" in maps made before
                                 * 1.2 (or if it could not be read) */
};
#define VBM_DISK_INFO_INIT \
  { .struct_size = sizeof (struct vbm_disk_info) }

/* Number of disks in the map, or -1. */
extern int vbm_map_ndisks (struct vbm_map *map, struct vbm_error *err);
/* Fills info (info->struct_size set by the caller); -1 (err set) if the
 * map has no such disk.
 */
extern int vbm_map_get_disk (struct vbm_map *map, unsigned disk,
                             struct vbm_disk_info *info,
                             struct vbm_error *err);
/* Copies the meta value for key (created, tool_version, ...) into buf;
 * -1 if there is none.
 */
extern int vbm_map_get_meta (struct vbm_map *map, const char *key,
                             char *buf, size_t len, struct vbm_error *err);

/* Calls fn for every extent covering the disk byte at offset, outer
 * objects (device) first, the former extents of deleted objects
 * (VBM_EXTENT_FORMER) last.  Returns the number of hits, or -1.
 */
extern int64_t vbm_map_lookup (struct vbm_map *map, unsigned disk,
                               uint64_t offset,
                               int (*fn) (void *opaque,
                                          const struct vbm_hit *hit),
                               void *opaque, struct vbm_error *err);

/* Calls fn for every extent of every object named path on device
 * (hard links count), in object-offset order; once with start == end
 * for an object that has no extents (empty file, all holes).
 */
extern int64_t vbm_map_lookup_path (struct vbm_map *map, const char *device,
                                    const char *path,
                                    int (*fn) (void *opaque,
                                               const struct vbm_hit *hit),
                                    void *opaque, struct vbm_error *err);

/* Calls fn for every extent in the map, ordered by disk and start. */
extern int64_t vbm_map_foreach (struct vbm_map *map,
                                int (*fn) (void *opaque,
                                           const struct vbm_hit *hit),
                                void *opaque, struct vbm_error *err);

/* Since 1.1: calls fn for every object in id order (an object comes
 * after the one containing it), with each of its extents in
 * object-offset order (those without an offset first); once with
 * start == end for an object without extents.
 */
extern int64_t vbm_map_foreach_object (struct vbm_map *map,
                                       int (*fn) (void *opaque,
                                                  const struct vbm_hit *hit),
                                       void *opaque, struct vbm_error *err);
/* Since 1.1: calls fn for every further name (hard link) of an object,
 * by object id.  Returns the number of names, or -1.
 */
extern int64_t vbm_map_foreach_name (struct vbm_map *map,
                                     int (*fn) (void *opaque,
                                                int64_t object_id,
                                                const char *path),
                                     void *opaque, struct vbm_error *err);

/* The hashes of an object (since 1.1).  The caller sets struct_size
 * (VBM_HASHES_INIT), as for vbm_stats.  Digests are lowercase hex, ""
 * when not computed.
 */
struct vbm_hashes {
  size_t struct_size;
  char md5[33];
  char sha1[41];
  char sha256[65];
  char not_hashed[64];          /* why there are none: "compressed",
                                 * "encrypted", "read error" ...; "" */
};
#define VBM_HASHES_INIT { .struct_size = sizeof (struct vbm_hashes) }

/* Fills hashes for the object (vbm_hit.object_id): 1 if the map has a
 * row for it (hashed, or not_hashed says why), 0 if none (not a
 * regular file, or a map built without hashes), -1 (err set) on error.
 */
extern int vbm_map_get_hashes (struct vbm_map *map, int64_t object_id,
                               struct vbm_hashes *hashes,
                               struct vbm_error *err);

/* ---- The in-memory index: one lookup per request. ----
 *
 * The map flattened into sorted non-overlapping segments, each naming
 * the most specific object there (file > directory > metadata > logical
 * volume > partition > device).  Lookup is a binary search; memory is
 * proportional to the number of extents.  Other objects at an offset
 * remain reachable through vbm_map_lookup.
 */
struct vbm_index;

extern struct vbm_index *vbm_index_load (struct vbm_map *map,
                                         struct vbm_error *err);
extern void vbm_index_free (struct vbm_index *idx);
/* Fills hit with the most specific object at disk offset and the
 * segment around it (hit->start, hit->end: where the same answer
 * holds; hit->object_offset at hit->start).  hit->struct_size is
 * set by the caller.  Returns 0, or -1 if the offset is not on the
 * disk (or hit->struct_size was never set).  Strings live as long as
 * the index.
 */
extern int vbm_index_lookup (const struct vbm_index *idx, unsigned disk,
                             uint64_t offset, struct vbm_hit *hit);
/* Bytes of memory the index uses. */
extern size_t vbm_index_memory (const struct vbm_index *idx);

extern const char *vbm_version (void);

#ifdef __cplusplus
}
#endif

#endif /* VIRTBMAP_H */
