/* virt-bmap-nbd: serve disk images over NBD: raw files, and through
 * libvirtbmap's sources xz, qcow2 (and the other qemu formats) and
 * NBD URIs.
 *
 * Each DISK is one export.  Everything else (listening, --cow, --run,
 * ...) is the shared frontend of libvbmnbd.
 */
#include <config.h>

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nbdserver.h"
#include "backend-source.h"
#include "prefetch.h"

static const char *program_name = "virt-bmap-nbd";

enum { OPT_FORMAT = 0xf0, OPT_VERIFY, OPT_PREFETCH, OPT_PREFETCH_WINDOW };

static const struct option extra_long[] = {
  { "format", required_argument, NULL, OPT_FORMAT },
  { "verify", no_argument, NULL, OPT_VERIFY },
  { "prefetch", required_argument, NULL, OPT_PREFETCH },
  { "prefetch-window", required_argument, NULL, OPT_PREFETCH_WINDOW },
  { NULL }
};

struct options {
  const char *format, *prefetch;
  bool verify;
  uint64_t window;
};

static int
parse_extra (void *opaque, int c, const char *arg)
{
  struct options *o = opaque;

  switch (c) {
  case OPT_FORMAT: o->format = arg; return 0;
  case OPT_VERIFY: o->verify = true; return 0;
  case OPT_PREFETCH: o->prefetch = arg; return 0;
  case OPT_PREFETCH_WINDOW:
    if (nbds_parse_size (arg, &o->window) == -1 || o->window == 0) {
      fprintf (stderr, "%s: --prefetch-window: not a size: '%s' (bytes, "
               "or e.g. 64M)\n", program_name, arg);
      return -1;
    }
    return 0;
  }
  return -1;
}

static void
say (void *opaque, const char *msg)
{
  fprintf (stderr, "%s: %s\n", program_name, msg);
}

static void
usage (int status)
{
  if (status != EXIT_SUCCESS)
    fprintf (stderr, "Try '%s --help' for more information.\n", program_name);
  else {
    printf ("%s: serve disk images over NBD\n"
            "\n"
            "Usage: %s [--format F] [--verify] [OPTIONS] DISK [DISK...]\n"
            "\n"
            "Each DISK is an export; the first one is also the default\n"
            "export (empty name).  Read-only unless --cow or --rw.\n"
            "A DISK is an image file, a block device or an nbd:// or\n"
            "nbd+unix:// URI.  Raw, xz, E01 (EnCase, with its segments\n"
            ".E02 ...), qcow2 (and the other formats qemu-nbd reads) and\n"
            "NBD URIs are served as the virtual disk they hold; only raw\n"
            "images can be written with --rw.\n"
            "\n"
            "Options:\n"
            "      --format F         raw, xz, e01, qcow2, vmdk, vdi, vhdx,\n"
            "                         vpc, qed or nbd (default: detected)\n"
            "      --verify           first check each E01 against the MD5\n"
            "                         and SHA-1 it stores; serve nothing if\n"
            "                         one does not match\n"
            "      --prefetch PLAN    read the plan's ranges (bmaplog report\n"
            "                         --prefetch) ahead of the client\n"
            "      --prefetch-window SIZE  at most this far ahead of the\n"
            "                         client's place in the plan (default 32M)\n"
            "%s",
            program_name, program_name, nbds_frontend_options_help);
  }
  exit (status);
}

int
main (int argc, char *argv[])
{
  struct nbds_frontend *fe;
  struct nbds_server *srv;
  struct options o = { .window = NBDS_PREFETCH_WINDOW_DEFAULT };
  struct nbds_plan plan = { 0 };
  int first, i, n, status;

  fe = nbds_frontend_parse (program_name, argc, argv, NULL, extra_long,
                            parse_extra, &o, usage, &first);
  if (fe == NULL)
    exit (EXIT_FAILURE);
  n = argc - first;
  if (n < 1) {
    fprintf (stderr, "%s: no image to serve\n", program_name);
    usage (EXIT_FAILURE);
  }

  if (o.prefetch) {
    struct nbds_error err;

    if (nbds_plan_read (o.prefetch, &plan, &err) == -1) {
      fprintf (stderr, "%s: --prefetch: %s%s%s\n", program_name, err.msg,
               err.errnum != EINVAL ? ": " : "",
               err.errnum != EINVAL ? strerror (err.errnum) : "");
      exit (EXIT_FAILURE);
    }
  }

  srv = nbds_server_new ();
  if (srv == NULL) {
    perror ("nbds_server_new");
    exit (EXIT_FAILURE);
  }
  for (i = 0; i < n; ++i) {
    const char *file = argv[first + i];
    const char *slash = strrchr (file, '/');
    struct nbds_export exp;
    struct nbds_disk_info d;
    struct nbds_error err = { 0 };

    if (o.verify && nbds_disk_verify (file, o.format, say, NULL, &err) == -1) {
      fprintf (stderr, "%s: %s\n", program_name, err.msg);
      goto fail;
    }
    if (nbds_disk_open (file, o.format, nbds_frontend_mode (fe),
                        nbds_frontend_verbose (fe), say, NULL,
                        &exp, &d, &err) == -1) {
      fprintf (stderr, "%s: %s\n", program_name, err.msg);
      goto fail;
    }
    if (nbds_frontend_verbose (fe))
      fprintf (stderr, "%s: %s: format %s, %" PRIu64 " bytes\n",
               program_name, file, d.format, d.size);
    if (o.prefetch &&
        nbds_prefetch_setup (&plan, i, &exp, &d, o.window, file,
                             say, NULL, &err) == -1) {
      fprintf (stderr, "%s: --prefetch %s: %s\n", program_name, o.prefetch,
               err.msg);
      exp.ops->close (exp.handle);
      goto fail;
    }
    /* A streamed source wants its requests in order: one thread
     * (-t still says otherwise).
     */
    if (d.streamed)
      nbds_server_set_threads (srv, 1);
    exp.name = nbds_frontend_export_name (fe, i, n, file);
    exp.description = slash ? slash + 1 : file;
    if (nbds_server_add_export (srv, &exp) == -1) {
      fprintf (stderr, "%s: export '%s' (%s): %s\n", program_name, exp.name,
               file, errno == EEXIST ? "duplicate export name"
               : strerror (errno));
      exp.ops->close (exp.handle);
      goto fail;
    }
  }

  status = nbds_frontend_run (fe, srv);
  nbds_server_free (srv);
  nbds_frontend_free (fe);
  nbds_plan_free (&plan);
  return status;

 fail:
  /* The exports added so far are closed with the server. */
  nbds_server_free (srv);
  nbds_frontend_free (fe);
  nbds_plan_free (&plan);
  return EXIT_FAILURE;
}
