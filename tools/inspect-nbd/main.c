/* inspect-nbd: one-shot inspection of a disk image in any format the
 * library reads (xz, qcow2, NBD URI, raw): serve it on a private Unix
 * socket and run libguestfs inspection on it, or --run any command.
 */
#include <config.h>

#include <errno.h>
#include <getopt.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "inspect-nbd.h"

enum output { OUT_TEXT, OUT_XML, OUT_JSON };

struct options {
  const char *format;
  enum output output;
  bool quiet;
  bool verify;
};

static void
usage (int status)
{
  if (status != EXIT_SUCCESS) {
    fprintf (stderr, "Try '%s --help' for more information.\n", PROG);
    exit (status);
  }
  printf ("%s: inspect the operating system on a disk image\n"
          "\n"
          "Usage:\n"
          "  %s [--format F] [--verify] [--xml|--json] [-q|-v] DISK\n"
          "  %s [--format F] [--verify] DISK --run 'CMD'\n"
          "\n"
          "  --format F   raw, xz, e01, qcow2, vmdk, vdi, vhdx, vpc, qed or nbd\n"
          "               (an NBD URI); default: detect\n"
          "  --verify     first check an E01 against the MD5 and SHA-1 it\n"
          "               stores; stop if they do not match\n"
          "  --xml        virt-inspector's XML\n"
          "  --json       JSON\n"
          "  -q, --quiet  no status line (bytes served, xz blocks\n"
          "               decompressed) while inspecting\n"
          "\n"
          "With --run the disk is served read-only (by default on a private\n"
          "Unix socket) while CMD runs; libguestfs wants\n"
          "-a 'nbd://?socket=$unixsocket' --format=raw.\n"
          "Server options:\n%s"
          "\n"
          "See %s(1).\n",
          PROG, PROG, PROG, nbds_frontend_options_help, PROG);
  exit (EXIT_SUCCESS);
}

/* Below 0x100: the server's common options use values from there on. */
enum { OPT_FORMAT = 0xf0, OPT_XML, OPT_JSON, OPT_VERIFY };

static const struct option extra_long[] = {
  { "format", required_argument, NULL, OPT_FORMAT },
  { "xml", no_argument, NULL, OPT_XML },
  { "json", no_argument, NULL, OPT_JSON },
  { "quiet", no_argument, NULL, 'q' },
  { "verify", no_argument, NULL, OPT_VERIFY },
  { NULL }
};

static int
parse_extra (void *opaque, int c, const char *arg)
{
  struct options *o = opaque;

  switch (c) {
  case OPT_FORMAT: o->format = arg; return 0;
  case OPT_XML: o->output = OUT_XML; return 0;
  case OPT_JSON: o->output = OUT_JSON; return 0;
  case 'q': o->quiet = true; return 0;
  case OPT_VERIFY: o->verify = true; return 0;
  }
  return -1;
}

/* With --run and no listening option, serve on a private socket
 * (-U -) rather than the TCP default: returns a new argv.  Sets *run
 * if --run is given.
 */
static char **
default_private_socket (int *argc, char **argv, bool *run)
{
  bool listen = false;
  char **nargv;
  int i;

  for (i = 1; i < *argc && strcmp (argv[i], "--") != 0; ++i) {
    const char *a = argv[i];
    if (strcmp (a, "--run") == 0 || strncmp (a, "--run=", 6) == 0)
      *run = true;
    else if (strncmp (a, "--unix", 6) == 0 || strncmp (a, "--port", 6) == 0 ||
             strcmp (a, "--vsock") == 0 || strcmp (a, "--single") == 0 ||
             (a[0] == '-' && a[1] != '-' && strpbrk (a, "Ups")))
      listen = true;
  }
  if (!*run || listen)
    return argv;
  nargv = calloc (*argc + 3, sizeof *nargv);
  if (nargv == NULL) {
    perror ("calloc");
    exit (EXIT_FAILURE);
  }
  nargv[0] = argv[0];
  nargv[1] = (char *) "-U";
  nargv[2] = (char *) "-";
  memcpy (&nargv[3], &argv[1], (*argc - 1) * sizeof *argv);
  *argc += 2;
  return nargv;
}

static void *
serve (void *srv)
{
  nbds_server_run (srv);
  return NULL;
}

/* Serves srv on a socket in a private directory while libguestfs
 * inspects it.
 */
static int
inspect_served (struct nbds_server *srv, void *handle, int verbose,
                bool quiet, struct os_info **oses)
{
  struct progress progress;
  char dir[] = "/tmp/inspect-nbdXXXXXX";
  char sock[sizeof dir + 16];
  struct nbds_error err;
  pthread_t thread;
  int fd, n;

  if (mkdtemp (dir) == NULL) {
    perror ("mkdtemp");
    return -1;
  }
  snprintf (sock, sizeof sock, "%s/sock", dir);
  fd = nbds_listen_unix (sock, &err);
  if (fd == -1) {
    fprintf (stderr, "%s: %s\n", PROG, err.msg);
    rmdir (dir);
    return -1;
  }
  if (nbds_server_add_listener (srv, fd) == -1 ||
      (errno = pthread_create (&thread, NULL, serve, srv)) != 0) {
    perror ("server");
    unlink (sock);
    rmdir (dir);
    return -1;
  }
  /* The appliance's messages (-v) would break the status line. */
  progress_start (&progress, handle, !verbose && !quiet);
  n = inspect (sock, verbose, oses);
  progress_stop (&progress);
  nbds_server_shutdown (srv);
  pthread_join (thread, NULL);
  unlink (sock);
  rmdir (dir);
  return n;
}

int
main (int argc, char *argv[])
{
  struct options o = { .output = OUT_TEXT };
  struct nbds_frontend *fe;
  struct nbds_server *srv = NULL;
  struct nbds_export exp;
  struct os_info *oses = NULL;
  char **nargv;
  bool run = false, streamed;
  int first, n, r = EXIT_FAILURE, verbose;

  nargv = default_private_socket (&argc, argv, &run);
  fe = nbds_frontend_parse (PROG, argc, nargv, "q", extra_long,
                            parse_extra, &o, usage, &first);
  if (fe == NULL)
    usage (EXIT_FAILURE);
  if (argc - first != 1) {
    fprintf (stderr, "%s: give one disk image\n", PROG);
    usage (EXIT_FAILURE);
  }
  verbose = nbds_frontend_verbose (fe);
  /* Inspection talks to a private socket only libguestfs sees (and
   * libguestfs has no NBD TLS): TLS is for what --run serves.
   */
  if (!run && nbds_frontend_tls (fe) != NBDS_TLS_OFF) {
    fprintf (stderr, "%s: --tls needs --run\n", PROG);
    goto out;
  }

  srv = nbds_server_new ();
  if (srv == NULL) {
    perror ("nbds_server_new");
    goto out;
  }
  if (source_export (nargv[first], o.format, o.verify, verbose, &exp,
                     &streamed) == -1)
    goto out;
  /* Requests handled one at a time reach a streamed source in the
   * order the client sent them (-t still says otherwise).
   */
  if (streamed)
    nbds_server_set_threads (srv, 1);
  exp.name = "";
  exp.description = nargv[first];
  if (nbds_server_add_export (srv, &exp) == -1) {
    fprintf (stderr, "%s: %s\n", PROG, strerror (errno));
    exp.ops->close (exp.handle);
    goto out;
  }

  if (run) {
    r = nbds_frontend_run (fe, srv);
    goto out;
  }

  signal (SIGPIPE, SIG_IGN);
  nbds_server_set_log (srv, NULL, NULL, verbose);
  n = inspect_served (srv, exp.handle, verbose, o.quiet, &oses);
  if (n == -1)
    goto out;
  if (n == 0) {
    fprintf (stderr, "%s: no operating system found on %s\n",
             PROG, nargv[first]);
    goto out;
  }
  switch (o.output) {
  case OUT_TEXT: output_text (stdout, oses, n); break;
  case OUT_XML: output_xml (stdout, oses, n); break;
  case OUT_JSON: output_json (stdout, oses, n); break;
  }
  if (fflush (stdout) == EOF) {
    perror ("stdout");
    goto out;
  }
  r = EXIT_SUCCESS;
  free_oses (oses, n);

 out:
  nbds_server_free (srv);
  nbds_frontend_free (fe);
  if (nargv != argv)
    free (nargv);
  return r;
}
