/* Prefetch plans (prefetch-plan.c) and the prefetcher that walks one
 * ahead of the guest (prefetch.c).
 *
 * A plan lists, per disk, the ranges a guest read while it booted, in
 * the order it first read them; "bmaplog report --prefetch" writes
 * it from traces.  The format, plain text, one item a line:
 *
 *   bmaplog-prefetch 1                   magic and version, first line
 *   disk DISK SIZE IDENTITY              a disk's plan starts
 *   T_NS OFFSET LENGTH                   a range of the last disk
 *
 * in decimal; lines starting with '#' are comments.  T_NS is the time
 * of first access (nanoseconds from the trace's start; the median over
 * the traces that read the range).  Ranges of a disk do not overlap
 * and come in prefetch order.  IDENTITY is vbm_disk_identity's (the
 * one the map stores).
 */
#ifndef NBDS_PREFETCH_H
#define NBDS_PREFETCH_H

#include <stdbool.h>
#include <stdint.h>
#include <stddef.h>

#include "nbdserver.h"
#include "backend-source.h"

#define NBDS_PLAN_MAGIC "bmaplog-prefetch"
#define NBDS_PLAN_VERSION 1

/* Identity: "id1:sha256:" and 64 hex digits (virtbmap.h). */
#define NBDS_IDENTITY_LEN VBM_IDENTITY_LEN

struct nbds_plan_range {
  uint64_t t_ns, offset, length;
};

struct nbds_plan_disk {
  unsigned disk;
  uint64_t size;
  char identity[NBDS_IDENTITY_LEN];
  struct nbds_plan_range *r;
  size_t n;
};

struct nbds_plan {
  struct nbds_plan_disk *disks;
  size_t ndisks;
};

/* Reads and checks a plan (ranges inside SIZE, not overlapping). */
extern int nbds_plan_read (const char *path, struct nbds_plan *plan,
                           struct nbds_error *err);
extern void nbds_plan_free (struct nbds_plan *plan);
/* The plan of disk number disk, or NULL. */
extern const struct nbds_plan_disk *
nbds_plan_find (const struct nbds_plan *plan, unsigned disk);

/* Default bytes read ahead of the guest's position in the plan. */
#define NBDS_PREFETCH_WINDOW_DEFAULT (32 * 1024 * 1024)

/* Puts a prefetcher in front of exp's backend (which it then owns):
 * from the first guest request on, a thread reads the plan's ranges
 * through the backend, at most window bytes ahead of the furthest
 * range the guest has read, and never while a guest request is in
 * flight.  The plan's identity must match the export's, identity
 * (computed here if NULL; EINVAL with a message otherwise).  At close, what was used goes to
 * say.  pd is copied.  keep: the backend has no cache of its own
 * (a remote disk): the prefetched chunks are kept in memory, at most
 * window bytes of them, and guest reads inside one are served from it;
 * with keep, own_uri (if not NULL) is the remote's URI: if it allows
 * multi-conn, the prefetcher reads on one connection of its own and
 * does not wait for the guest's requests.
 */
extern int nbds_prefetch_wrap (struct nbds_export *exp,
                               const struct nbds_plan_disk *pd,
                               const char *identity, const char *own_uri,
                               uint64_t window,
                               bool keep, const char *name,
                               nbds_source_say say, void *opaque,
                               struct nbds_error *err);

/* What bmaplog and virt-bmap-nbd do with --prefetch for their i-th
 * disk: wrap exp with the plan's disk i (a plan without it: a message,
 * no prefetch), d->identity computed if not yet (nbds_disk_identify).  A streamed source is checked but not prefetched (it
 * is read in order only: reading ahead would restart it); an NBD URI
 * is prefetched into memory (keep), on a connection of its own when
 * the remote allows multi-conn.
 */
extern int nbds_prefetch_setup (const struct nbds_plan *plan, unsigned i,
                                struct nbds_export *exp,
                                struct nbds_disk_info *d,
                                uint64_t window, const char *name,
                                nbds_source_say say, void *opaque,
                                struct nbds_error *err);

/* Bytes, or with a K, M or G suffix (powers of 1024); -1 if not. */
extern int nbds_parse_size (const char *s, uint64_t *r);

#endif /* NBDS_PREFETCH_H */
