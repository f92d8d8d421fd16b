/* virt-bmap-nbd: serve raw disk images over NBD.
 *
 * Each FILE is one export.  Everything else (listening, --cow, --run,
 * ...) is the shared frontend of libvbmnbd.
 */
#include <config.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nbdserver.h"

static const char *program_name = "virt-bmap-nbd";

static void
usage (int status)
{
  if (status != EXIT_SUCCESS)
    fprintf (stderr, "Try '%s --help' for more information.\n", program_name);
  else {
    printf ("%s: serve raw disk images over NBD\n"
            "\n"
            "Usage: %s [OPTIONS] FILE [FILE...]\n"
            "\n"
            "Each FILE is an export; the first one is also the default\n"
            "export (empty name).  Read-only unless --cow or --rw.\n"
            "\n"
            "Options:\n%s",
            program_name, program_name, nbds_frontend_options_help);
  }
  exit (status);
}

int
main (int argc, char *argv[])
{
  struct nbds_frontend *fe;
  struct nbds_server *srv;
  int first, i, n, status;

  fe = nbds_frontend_parse (program_name, argc, argv, NULL, NULL, NULL, NULL,
                            usage, &first);
  if (fe == NULL)
    exit (EXIT_FAILURE);
  n = argc - first;
  if (n < 1) {
    fprintf (stderr, "%s: no image to serve\n", program_name);
    usage (EXIT_FAILURE);
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
    struct nbds_error err = { 0 };

    if (nbds_file_open (file, nbds_frontend_mode (fe), &exp, &err) == -1) {
      fprintf (stderr, "%s: %s\n", program_name, err.msg);
      exit (EXIT_FAILURE);
    }
    exp.name = nbds_frontend_export_name (fe, i, n, file);
    exp.description = slash ? slash + 1 : file;
    if (nbds_server_add_export (srv, &exp) == -1) {
      fprintf (stderr, "%s: export '%s' (%s): %s\n", program_name, exp.name,
               file, errno == EEXIST ? "duplicate export name"
               : strerror (errno));
      exp.ops->close (exp.handle);
      exit (EXIT_FAILURE);
    }
  }

  status = nbds_frontend_run (fe, srv);
  nbds_server_free (srv);
  nbds_frontend_free (fe);
  return status;
}
