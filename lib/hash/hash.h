/* Per-file hashes (vbm_build_set_hashes): computed from a finished
 * map's own extents, before it is renamed into place.
 *
 * plan.c reads the map's files and their data extents into pieces;
 * hash.c reads the disks in disk order once, feeding each piece to its
 * file's digests, which workers.c computes, a thread per algorithm;
 * store/hashes.c writes the results into the map.
 */
#ifndef VBM_HASH_H
#define VBM_HASH_H

#include <stdbool.h>
#include <stdint.h>

#include <gnutls/crypto.h>

#include "internal.h"
#include "vector.h"

#define VBM_HASH_ALL (VBM_HASH_MD5 | VBM_HASH_SHA1 | VBM_HASH_SHA256)
#define VBM_NR_HASHES 3

/* Why a file has no hashes (the map's not_hashed column). */
enum hash_skip {
  HASH_OK = 0,
  HASH_COMPRESSED,              /* stored compressed: raw bytes are not the file */
  HASH_ENCRYPTED,               /* EFS ciphertext */
  HASH_OVERLAP,                 /* two extents claim one file offset */
  HASH_READ_ERROR,
  HASH_TOO_SPARSE,              /* more holes than MAX_ZERO_BYTES */
};
extern const char *hash_skip_name (enum hash_skip why);

/* A file to hash: an object of kind f, neither symlink nor special. */
struct hfile {
  int64_t id;
  uint64_t size;
  uint64_t next;                /* file offset hashed up to */
  uint32_t pieces_left;
  uint8_t skip;                 /* enum hash_skip */
  bool second_pass;             /* disk order != file order, or too many open */
  bool done;
  int32_t slot;                 /* its digests while open, or -1 */
  unsigned char digest[16 + 20 + 32]; /* MD5, SHA-1, SHA-256 */
};
/* Where each algorithm's digest sits in hfile.digest. */
extern const struct hash_algo {
  unsigned bit;                 /* VBM_HASH_* */
  gnutls_digest_algorithm_t gnutls;
  unsigned len, at;
  const char *name;
} hash_algos[VBM_NR_HASHES];
DEFINE_VECTOR_TYPE (hfile_vector, struct hfile);

/* A data extent of a file, clipped to its size. */
struct piece {
  uint32_t file;                /* index in the plan's files */
  uint32_t disk;
  uint64_t start, end;          /* on the disk */
  uint64_t offset;              /* in the file */
  unsigned flags;               /* VBM_EXTENT_* */
};
DEFINE_VECTOR_TYPE (piece_vector, struct piece);

/* plan.c: pieces ordered by file, then file offset, then disk. */
extern int hash_piece_by_file_offset (const struct piece *a,
                                      const struct piece *b);

struct hash_plan {
  hfile_vector files;
  piece_vector pieces;          /* sorted by disk, start */
  uint64_t read_bytes;          /* data bytes to read */
};

extern int hash_plan_load (struct hash_plan *p, const char *map_path,
                           struct vbm_error *err);
extern void hash_plan_free (struct hash_plan *p);

/* What the hash stage reports back to the build. */
struct hash_report {
  uint64_t hashed_files, not_hashed, bytes_read, second_pass_files;
  double seconds;
};

DEFINE_VECTOR_TYPE (warning_vector, char *);

struct hash_ctx {
  struct vbm_source **disks;
  size_t ndisks;
  unsigned algorithms;
  const struct vbm_build_options *opts;
  warning_vector warnings;      /* kept for the map's warnings table */
};
extern void hash_warn (struct hash_ctx *hc, const char *fs, ...)
  __attribute__ ((format (printf, 2, 3)));

/* Hashes every file of the plan; per-file failures are recorded in
 * the files, -1 only for a failure of the whole stage.
 */
extern int hash_plan_run (struct hash_plan *p, struct hash_ctx *hc,
                          struct hash_report *rep, struct vbm_error *err);

/* workers.c: the digests, one thread per algorithm, fed with batches
 * of commands over a buffer of bufsize bytes.  Commands refer to the
 * buffer of the batch being filled (hash_workers_buffer), which
 * hash_workers_submit hands over, returning with a free one.  The
 * stage fails (hash_workers_finish returns -1) if a command could not
 * be kept or a digest could not start.
 */
struct hash_workers;
extern struct hash_workers *hash_workers_start (unsigned algorithms,
                                                size_t nslots, size_t bufsize,
                                                struct vbm_error *err);
extern unsigned char *hash_workers_buffer (struct hash_workers *w);
extern void hash_workers_submit (struct hash_workers *w);
extern void hash_workers_open (struct hash_workers *w, int32_t slot);
extern void hash_workers_data (struct hash_workers *w, int32_t slot,
                               const unsigned char *p, size_t len);
extern void hash_workers_copy (struct hash_workers *w, int32_t slot,
                               const void *p, size_t len);
extern void hash_workers_zeroes (struct hash_workers *w, int32_t slot,
                                 uint64_t n);
/* out: the file's digest buffer (hfile.digest), or NULL to drop them. */
extern void hash_workers_close (struct hash_workers *w, int32_t slot,
                                unsigned char *out);
/* Waits for every batch, stops the threads, frees w. */
extern int hash_workers_finish (struct hash_workers *w, struct vbm_error *err);

/* The whole stage: load, hash, store.  algorithms is VBM_HASH_*. */
extern int vbm_hash_map (const char *map_path, struct vbm_source **disks,
                         size_t ndisks, unsigned algorithms,
                         const struct vbm_build_options *opts,
                         struct vbm_stats *stats, struct vbm_error *err);

/* store/hashes.c: the hashes table and its rows. */
extern int vbm_store_write_hashes (const char *map_path,
                                   const struct hash_plan *p,
                                   unsigned algorithms,
                                   const struct hash_ctx *hc,
                                   unsigned total_warnings,
                                   struct vbm_error *err);

#endif /* VBM_HASH_H */
