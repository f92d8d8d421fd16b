/* inspect-nbd: serve a disk image (any source format) on a private
 * NBD socket and inspect it with libguestfs, or run a command on it.
 */
#ifndef INSPECT_NBD_H
#define INSPECT_NBD_H

#include <stdio.h>

#include <guestfs.h>

#include "nbdserver.h"
#include "virtbmap.h"

#define PROG "inspect-nbd"

/* backend.c: a vbm_source as a read-only NBD export. */
extern int source_export (const char *path, const char *format, int verbose,
                          struct nbds_export *exp);

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
