/* virt-bmap: the command-line tool's internal interfaces. */
#ifndef VIRT_BMAP_H
#define VIRT_BMAP_H

#include <stdbool.h>
#include <stdio.h>

#include "virtbmap.h"

#define PROG "virt-bmap"

/* Subcommands; each returns the exit status. */
extern int build_main (int argc, char *argv[]);
extern int query_main (int argc, char *argv[]);
extern int export_main (int argc, char *argv[]);

/* progress.c: a progress bar on stderr when it is a terminal. */
struct progress {
  bool enabled;
  int last_percent;
};
extern void progress_init (struct progress *p, bool enable);
extern void progress_update (struct progress *p, uint64_t done, uint64_t total);
extern void progress_end (struct progress *p);

/* export.c: one extent as a line of "export --format tsv" on the
 * FILE * passed as opaque.
 */
extern int export_tsv_extent (void *fp, const struct vbm_hit *h);

/* dfxml.c: the map as DFXML on fp.  Returns -1 (err set) on error. */
extern int64_t export_dfxml (struct vbm_map *map, FILE *fp,
                             const char *command_line,
                             struct vbm_error *err);

/* format.c */
extern void format_extent_flags (unsigned flags, char *buf, size_t len);
extern void format_object_flags (unsigned flags, char *buf, size_t len);
/* Parses a decimal, 0x hex, or size with k/M/G/T suffix (powers of 1024). */
extern int parse_offset (const char *s, uint64_t *r);
extern void usage_error (const char *fs, ...)
  __attribute__ ((format (printf, 1, 2), noreturn));

#endif /* VIRT_BMAP_H */
