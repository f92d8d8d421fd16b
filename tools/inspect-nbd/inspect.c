/* libguestfs inspection of the disk served on our private socket,
 * through the C API: what virt-inspector reports.
 */
#include <config.h>

#include <stdlib.h>
#include <string.h>

#include "inspect-nbd.h"

/* A string result, or NULL when libguestfs has none ("unknown"). */
static char *
str (guestfs_h *g, char *(*fn) (guestfs_h *, const char *), const char *root)
{
  char *s;

  guestfs_push_error_handler (g, NULL, NULL);
  s = fn (g, root);
  guestfs_pop_error_handler (g);
  if (s && strcmp (s, "unknown") == 0) {
    free (s);
    s = NULL;
  }
  return s;
}

static void
free_strings (char **v)
{
  size_t i;

  if (v == NULL)
    return;
  for (i = 0; v[i]; ++i)
    free (v[i]);
  free (v);
}

/* Mountpoints sorted by length, so / comes before /usr. */
static int
compare_mp (const void *a, const void *b)
{
  const char *const *x = a, *const *y = b;
  size_t lx = strlen (x[0]), ly = strlen (y[0]);

  return lx != ly ? (lx < ly ? -1 : 1) : strcmp (x[0], y[0]);
}

static void
mount_all (guestfs_h *g, char **mps)
{
  size_t i;

  guestfs_push_error_handler (g, NULL, NULL);
  /* One that fails to mount (a bad fstab entry) should not hide the
   * others.
   */
  for (i = 0; mps && mps[i]; i += 2)
    guestfs_mount_ro (g, mps[i + 1], mps[i]);
  guestfs_pop_error_handler (g);
}

static int
inspect_root (guestfs_h *g, const char *root, struct os_info *os)
{
  char **fs;
  size_t i, n;

  os->root = strdup (root);
  os->type = str (g, guestfs_inspect_get_type, root);
  os->distro = str (g, guestfs_inspect_get_distro, root);
  os->product_name = str (g, guestfs_inspect_get_product_name, root);
  os->product_variant = str (g, guestfs_inspect_get_product_variant, root);
  os->hostname = str (g, guestfs_inspect_get_hostname, root);
  os->arch = str (g, guestfs_inspect_get_arch, root);
  os->package_format = str (g, guestfs_inspect_get_package_format, root);
  os->package_management =
    str (g, guestfs_inspect_get_package_management, root);
  os->osinfo = str (g, guestfs_inspect_get_osinfo, root);
  os->major = guestfs_inspect_get_major_version (g, root);
  os->minor = guestfs_inspect_get_minor_version (g, root);

  os->mountpoints = guestfs_inspect_get_mountpoints (g, root);
  if (os->mountpoints) {
    for (n = 0; os->mountpoints[n]; n += 2)
      ;
    qsort (os->mountpoints, n / 2, 2 * sizeof (char *), compare_mp);
  }

  fs = guestfs_inspect_get_filesystems (g, root);
  if (fs) {
    for (n = 0; fs[n]; ++n)
      ;
    os->fs = calloc (n ? n : 1, sizeof *os->fs);
    if (os->fs == NULL) {
      free_strings (fs);
      return -1;
    }
    guestfs_push_error_handler (g, NULL, NULL);
    for (i = 0; i < n; ++i) {
      struct fs_info *f = &os->fs[os->nfs++];
      f->device = strdup (fs[i]);
      f->type = guestfs_vfs_type (g, fs[i]);
      f->uuid = guestfs_vfs_uuid (g, fs[i]);
      f->label = guestfs_vfs_label (g, fs[i]);
    }
    guestfs_pop_error_handler (g);
    free_strings (fs);
  }

  mount_all (g, os->mountpoints);
  os->apps = guestfs_inspect_list_applications2 (g, root);
  guestfs_umount_all (g);
  return 0;
}

int
inspect (const char *socket, int verbose, struct os_info **oses)
{
  guestfs_h *g;
  char server[4200];
  char *servers[] = { server, NULL };
  char **roots = NULL;
  int n = -1, i;

  snprintf (server, sizeof server, "unix:%s", socket);
  g = guestfs_create ();
  if (g == NULL) {
    fprintf (stderr, "%s: guestfs_create failed\n", PROG);
    return -1;
  }
  if (verbose) {
    guestfs_set_verbose (g, 1);
    guestfs_set_trace (g, 1);
  }
  if (guestfs_add_drive_opts (g, "",
                              GUESTFS_ADD_DRIVE_OPTS_PROTOCOL, "nbd",
                              GUESTFS_ADD_DRIVE_OPTS_SERVER, servers,
                              GUESTFS_ADD_DRIVE_OPTS_FORMAT, "raw",
                              GUESTFS_ADD_DRIVE_OPTS_READONLY, 1,
                              -1) == -1)
    goto out;
  if (guestfs_launch (g) == -1)
    goto out;
  roots = guestfs_inspect_os (g);
  if (roots == NULL)
    goto out;
  for (n = 0; roots[n]; ++n)
    ;
  *oses = calloc (n ? n : 1, sizeof **oses);
  if (*oses == NULL) {
    perror ("calloc");
    n = -1;
    goto out;
  }
  for (i = 0; i < n; ++i)
    if (inspect_root (g, roots[i], &(*oses)[i]) == -1) {
      perror ("inspect");
      free_oses (*oses, n);
      n = -1;
      goto out;
    }
  /* Shut the appliance down cleanly before the server goes. */
  if (guestfs_shutdown (g) == -1) {
    free_oses (*oses, n);
    n = -1;
  }

 out:
  free_strings (roots);
  guestfs_close (g);
  return n;
}

void
free_oses (struct os_info *oses, int n)
{
  int i;
  size_t j;

  if (oses == NULL)
    return;
  for (i = 0; i < n; ++i) {
    struct os_info *os = &oses[i];
    free (os->root); free (os->type); free (os->distro);
    free (os->product_name); free (os->product_variant);
    free (os->hostname); free (os->arch); free (os->package_format);
    free (os->package_management); free (os->osinfo);
    free_strings (os->mountpoints);
    for (j = 0; j < os->nfs; ++j) {
      free (os->fs[j].device); free (os->fs[j].type);
      free (os->fs[j].uuid); free (os->fs[j].label);
    }
    free (os->fs);
    if (os->apps)
      guestfs_free_application2_list (os->apps);
  }
  free (oses);
}
