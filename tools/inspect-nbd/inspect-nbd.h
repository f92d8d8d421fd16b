/* inspect-nbd: serve a disk image (any source format) on a private
 * NBD socket and inspect it with libguestfs, or run a command on it.
 */
#ifndef INSPECT_NBD_H
#define INSPECT_NBD_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include <guestfs.h>

#include "nbdserver.h"
#include "virtbmap.h"

#define PROG "inspect-nbd"

/* backend.c: a vbm_source as a read-only NBD export, first checked
 * against its stored hashes if verify; *streamed if it must be read in
 * order (see vbm_source_stats).  What the export has done so far:
 * nbds_source_progress on its handle.
 */
extern int source_export (const char *path, const char *format, bool verify,
                          int verbose, struct nbds_export *exp,
                          bool *streamed);

/* progress.c: "inspect-nbd: MSG" on stderr, clearing the status line. */
extern void message (const char *fs, ...)
  __attribute__ ((format (printf, 1, 2)));

/* A status line on stderr while inspecting, if enable and stderr is a
 * terminal.
 */
struct progress {
  pthread_t thread;
  pthread_mutex_t lock;
  pthread_cond_t wake;
  bool running, stop;
  void *handle;
};
extern void progress_start (struct progress *p, void *handle, bool enable);
extern void progress_stop (struct progress *p);

/* What inspection found about one operating system. */
struct fs_info {
  char *device, *type, *uuid, *label;
};

struct os_info {
  char *root;
  char *type, *distro, *product_name, *product_variant, *hostname, *arch;
  char *package_format, *package_management, *osinfo;
  int major, minor;
  char **mountpoints;           /* mountpoint, device, ... (sorted) */
  struct fs_info *fs;
  size_t nfs;
  struct guestfs_application2_list *apps;
};

/* inspect.c: launches the appliance on the NBD server at socket and
 * inspects it.  Returns the number of operating systems found (stored
 * in *oses), or -1 after printing an error.
 */
extern int inspect (const char *socket, int verbose, struct os_info **oses);
extern void free_oses (struct os_info *oses, int n);

/* output.c */
extern void output_text (FILE *fp, const struct os_info *oses, int n);
extern void output_xml (FILE *fp, const struct os_info *oses, int n);
extern void output_json (FILE *fp, const struct os_info *oses, int n);

#endif /* INSPECT_NBD_H */
