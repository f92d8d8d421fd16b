/* The frontend shared by the NBD-serving programs: the common command
 * line options, then listening, daemonizing, pidfile, captive command,
 * serving until a signal, and cleaning up (socket, temp dir, pidfile).
 */
#include <config.h>

#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cleanup.h"
#include "daemon.h"
#include "internal.h"

#define DEFAULT_PORT "10809"
#define MAX_TCP_FDS 16

enum {
  OPT_COW = 0x100,
  OPT_RW,
  OPT_EXIT_WITH_PARENT,
  OPT_RUN,
  OPT_VSOCK,
  OPT_HELP,
  OPT_VERSION,
  OPT_TLS,
  OPT_TLS_CERTIFICATES,
  OPT_TLS_PSK,
  OPT_TLS_VERIFY_PEER,
  OPT_HANDSHAKE_TIMEOUT,
  OPT_MAX_CONNECTIONS,
};

static const char common_short[] = "e:fi:p:P:rst:U:v";

static const struct option common_long[] = {
  { "cow", no_argument, NULL, OPT_COW },
  { "exit-with-parent", no_argument, NULL, OPT_EXIT_WITH_PARENT },
  { "exportname", required_argument, NULL, 'e' },
  { "foreground", no_argument, NULL, 'f' },
  { "handshake-timeout", required_argument, NULL, OPT_HANDSHAKE_TIMEOUT },
  { "help", no_argument, NULL, OPT_HELP },
  { "ipaddr", required_argument, NULL, 'i' },
  { "max-connections", required_argument, NULL, OPT_MAX_CONNECTIONS },
  { "pidfile", required_argument, NULL, 'P' },
  { "port", required_argument, NULL, 'p' },
  { "read-only", no_argument, NULL, 'r' },
  { "readonly", no_argument, NULL, 'r' },
  { "run", required_argument, NULL, OPT_RUN },
  { "rw", no_argument, NULL, OPT_RW },
  { "single", no_argument, NULL, 's' },
  { "threads", required_argument, NULL, 't' },
  { "tls", required_argument, NULL, OPT_TLS },
  { "tls-certificates", required_argument, NULL, OPT_TLS_CERTIFICATES },
  { "tls-psk", required_argument, NULL, OPT_TLS_PSK },
  { "tls-verify-peer", no_argument, NULL, OPT_TLS_VERIFY_PEER },
  { "unix", required_argument, NULL, 'U' },
  { "verbose", no_argument, NULL, 'v' },
  { "version", no_argument, NULL, OPT_VERSION },
  { "vsock", no_argument, NULL, OPT_VSOCK },
};

const char nbds_frontend_options_help[] =
  "  -U, --unix PATH        listen on a Unix socket ('-' for a private one)\n"
  "  -p, --port PORT        listen on TCP PORT (0: any free port;\n"
  "                         default 10809 when nothing else is given)\n"
  "  -i, --ipaddr ADDR      TCP address to listen on (default localhost,\n"
  "                         '*' for all)\n"
  "      --vsock            listen on vsock (port from -p, default 10809)\n"
  "  -s, --single           serve one client on stdin/stdout\n"
  "  -e, --exportname NAME  name the next export (repeat for each)\n"
  "  -r, --readonly         refuse writes (virt-bmap-nbd's default)\n"
  "      --cow              accept writes into a private overlay; the\n"
  "                         image is never modified\n"
  "      --rw               write through to the image\n"
  "  -t, --threads N        worker threads per connection (default 16)\n"
  "      --tls=off|on|require  TLS: refused (default), offered, or\n"
  "                         required before any other option\n"
  "      --tls-certificates DIR  ca-cert.pem, server-cert.pem,\n"
  "                         server-key.pem (and ca-crl.pem) in DIR\n"
  "      --tls-psk FILE     pre-shared keys (psktool's format)\n"
  "      --tls-verify-peer  clients need a certificate signed by the CA\n"
  "      --handshake-timeout S  close clients that have not finished\n"
  "                         the handshake after S seconds (default 30,\n"
  "                         0: never)\n"
  "      --max-connections N  refuse clients beyond N at once (default\n"
  "                         128, 0: no limit)\n"
  "  -f, --foreground       do not fork into the background\n"
  "  -P, --pidfile FILE     write the pid to FILE when ready\n"
  "      --exit-with-parent exit when the parent process exits\n"
  "      --run CMD          run CMD with $uri, $nbd, $unixsocket, $port,\n"
  "                         $exportname set; exit with its status\n"
  "  -v, --verbose          debug messages on stderr\n"
  "      --help             this help\n"
  "      --version          print the version\n";

DEFINE_VECTOR_TYPE (name_vector, char *);

struct nbds_frontend {
  const char *program_name;
  const char *unixsocket;       /* -U PATH */
  bool unix_private;            /* -U - */
  const char *port;
  const char *ipaddr;
  bool vsock;
  bool stdio;
  bool foreground;
  bool exit_with_parent;
  int verbose;
  const char *pidfile;
  const char *run;
  unsigned threads;
  int tls;                      /* NBDS_TLS_* */
  const char *tls_certificates;
  const char *tls_psk;
  bool tls_verify_peer;
  unsigned handshake_timeout;
  unsigned max_conns;
  enum nbds_file_mode mode;
  bool mode_set;
  name_vector names;

  /* While running: what to clean up. */
  char *socket_path;
  char *tmpdir;
  bool wrote_pidfile;
  bool activated;
};

static int
set_mode (struct nbds_frontend *fe, enum nbds_file_mode mode)
{
  if (fe->mode_set && fe->mode != mode) {
    fprintf (stderr, "%s: choose one of -r, --cow and --rw\n",
             fe->program_name);
    return -1;
  }
  fe->mode = mode;
  fe->mode_set = true;
  return 0;
}

static bool
parse_uint (const char *s, unsigned long max, unsigned long *out)
{
  char *end;
  unsigned long v;

  if (*s < '0' || *s > '9')
    return false;
  errno = 0;
  v = strtoul (s, &end, 10);
  if (errno || *end || v > max)
    return false;
  *out = v;
  return true;
}

static int
common_option (struct nbds_frontend *fe, int c, const char *arg)
{
  unsigned long v;

  switch (c) {
  case 'e':
    if (strlen (arg) > NBDS_MAX_STRING) {
      fprintf (stderr, "%s: export name too long\n", fe->program_name);
      return -1;
    }
    return name_vector_append (&fe->names, (char *) arg);
  case 'f': fe->foreground = true; return 0;
  case 'i': fe->ipaddr = arg; return 0;
  case 'p':
    if (!parse_uint (arg, 65535, &v)) {
      fprintf (stderr, "%s: bad port '%s'\n", fe->program_name, arg);
      return -1;
    }
    fe->port = arg;
    return 0;
  case 'P': fe->pidfile = arg; return 0;
  case 'r': return set_mode (fe, NBDS_FILE_READONLY);
  case 's': fe->stdio = true; return 0;
  case 't':
    if (!parse_uint (arg, 1024, &v) || v == 0) {
      fprintf (stderr, "%s: bad thread count '%s'\n", fe->program_name, arg);
      return -1;
    }
    fe->threads = v;
    return 0;
  case 'U':
    if (strcmp (arg, "-") == 0)
      fe->unix_private = true;
    else
      fe->unixsocket = arg;
    return 0;
  case 'v': fe->verbose++; return 0;
  case OPT_COW: return set_mode (fe, NBDS_FILE_COW);
  case OPT_RW: return set_mode (fe, NBDS_FILE_RW);
  case OPT_EXIT_WITH_PARENT: fe->exit_with_parent = true; return 0;
  case OPT_RUN: fe->run = arg; return 0;
  case OPT_VSOCK: fe->vsock = true; return 0;
  case OPT_TLS:
    if (strcmp (arg, "off") == 0)
      fe->tls = NBDS_TLS_OFF;
    else if (strcmp (arg, "on") == 0)
      fe->tls = NBDS_TLS_ON;
    else if (strcmp (arg, "require") == 0)
      fe->tls = NBDS_TLS_REQUIRE;
    else {
      fprintf (stderr, "%s: --tls must be off, on or require\n",
               fe->program_name);
      return -1;
    }
    return 0;
  case OPT_TLS_CERTIFICATES: fe->tls_certificates = arg; return 0;
  case OPT_TLS_PSK: fe->tls_psk = arg; return 0;
  case OPT_TLS_VERIFY_PEER: fe->tls_verify_peer = true; return 0;
  case OPT_HANDSHAKE_TIMEOUT:
    if (!parse_uint (arg, 86400, &v)) {
      fprintf (stderr, "%s: bad handshake timeout '%s'\n",
               fe->program_name, arg);
      return -1;
    }
    fe->handshake_timeout = v;
    return 0;
  case OPT_MAX_CONNECTIONS:
    if (!parse_uint (arg, 1000000, &v)) {
      fprintf (stderr, "%s: bad connection count '%s'\n",
               fe->program_name, arg);
      return -1;
    }
    fe->max_conns = v;
    return 0;
  default: return 1;            /* not ours */
  }
}

static int
check_options (struct nbds_frontend *fe)
{
  const bool listen = fe->unixsocket || fe->unix_private || fe->port ||
    fe->vsock;

  if (fe->unixsocket && fe->unix_private) {
    fprintf (stderr, "%s: -U given twice\n", fe->program_name);
    return -1;
  }
  if (fe->stdio && (listen || fe->run)) {
    fprintf (stderr, "%s: -s cannot be used with -U, -p, --vsock or --run\n",
             fe->program_name);
    return -1;
  }
  if (fe->unix_private && !fe->run) {
    fprintf (stderr, "%s: -U - (a private socket) needs --run\n",
             fe->program_name);
    return -1;
  }
  if (fe->vsock && (fe->unixsocket || fe->unix_private || fe->ipaddr)) {
    fprintf (stderr, "%s: --vsock cannot be used with -U or -i\n",
             fe->program_name);
    return -1;
  }
  /* TLS options without --tls would look like protection and be none. */
  if (fe->tls == NBDS_TLS_OFF &&
      (fe->tls_certificates || fe->tls_psk || fe->tls_verify_peer)) {
    fprintf (stderr, "%s: --tls-certificates, --tls-psk and "
             "--tls-verify-peer need --tls=on or --tls=require\n",
             fe->program_name);
    return -1;
  }
  if (fe->tls != NBDS_TLS_OFF && !fe->tls_certificates == !fe->tls_psk) {
    fprintf (stderr, "%s: --tls needs one of --tls-certificates DIR "
             "and --tls-psk FILE\n", fe->program_name);
    return -1;
  }
  if (fe->tls_verify_peer && !fe->tls_certificates) {
    fprintf (stderr, "%s: --tls-verify-peer needs --tls-certificates\n",
             fe->program_name);
    return -1;
  }
  return 0;
}

struct nbds_frontend *
nbds_frontend_parse (const char *program_name, int argc, char **argv,
                     const char *extra_short, const struct option *extra_long,
                     nbds_option_fn extra, void *opaque,
                     void (*usage) (int status), int *optind_out)
{
  const size_t ncommon = sizeof common_long / sizeof common_long[0];
  struct nbds_frontend *fe;
  CLEANUP_FREE struct option *longopts = NULL;
  CLEANUP_FREE char *shortopts = NULL;
  size_t nextra = 0;
  int c;

  fe = calloc (1, sizeof *fe);
  if (fe == NULL) {
    perror ("calloc");
    return NULL;
  }
  fe->program_name = program_name;
  fe->handshake_timeout = NBDS_DEFAULT_HANDSHAKE_TIMEOUT;
  fe->max_conns = NBDS_DEFAULT_MAX_CONNECTIONS;
  while (extra_long && extra_long[nextra].name)
    nextra++;
  longopts = calloc (ncommon + nextra + 1, sizeof *longopts);
  if (asprintf (&shortopts, "%s%s", common_short,
                extra_short ? extra_short : "") == -1)
    shortopts = NULL;
  if (longopts == NULL || shortopts == NULL) {
    perror ("malloc");
    goto error;
  }
  memcpy (longopts, common_long, sizeof common_long);
  if (nextra)
    memcpy (longopts + ncommon, extra_long, nextra * sizeof *longopts);

  while ((c = getopt_long (argc, argv, shortopts, longopts, NULL)) != -1) {
    int r;

    if (c == OPT_HELP)
      usage (EXIT_SUCCESS);
    if (c == OPT_VERSION) {
      printf ("%s %s\n", program_name, PACKAGE_VERSION);
      exit (EXIT_SUCCESS);
    }
    if (c == '?') {
      usage (EXIT_FAILURE);
      goto error;
    }
    r = common_option (fe, c, optarg);
    if (r == 1)
      r = extra ? extra (opaque, c, optarg) : -1;
    if (r == -1)
      goto error;
  }
  if (check_options (fe) == -1)
    goto error;
  *optind_out = optind;
  return fe;

 error:
  nbds_frontend_free (fe);
  return NULL;
}

void
nbds_frontend_free (struct nbds_frontend *fe)
{
  if (fe == NULL)
    return;
  free (fe->names.ptr);
  free (fe->socket_path);
  free (fe->tmpdir);
  free (fe);
}

enum nbds_file_mode
nbds_frontend_mode (const struct nbds_frontend *fe)
{
  return fe->mode;
}

enum nbds_file_mode
nbds_frontend_mode_or (const struct nbds_frontend *fe,
                       enum nbds_file_mode dflt)
{
  return fe->mode_set ? fe->mode : dflt;
}

int
nbds_frontend_tls (const struct nbds_frontend *fe)
{
  return fe->tls;
}

int
nbds_frontend_verbose (const struct nbds_frontend *fe)
{
  return fe->verbose;
}

const char *
nbds_frontend_export_name (const struct nbds_frontend *fe, size_t i,
                           size_t n, const char *operand)
{
  const char *slash;

  if (i < fe->names.len)
    return fe->names.ptr[i];
  if (n == 1)
    return "";
  slash = strrchr (operand, '/');
  return slash ? slash + 1 : operand;
}

static void
frontend_log (void *opaque, int level, const char *msg)
{
  struct nbds_frontend *fe = opaque;

  fprintf (stderr, "%s: %s%s\n", fe->program_name,
           level == NBDS_LOG_DEBUG ? "debug: " : "", msg);
}

/* Percent-encodes s for a URI path or query, appending to fp. */
static void
uri_encode (FILE *fp, const char *s)
{
  for (; *s; s++) {
    unsigned char ch = *s;

    if ((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
        (ch >= '0' && ch <= '9') || strchr ("-._~/", ch))
      fputc (ch, fp);
    else
      fprintf (fp, "%%%02X", ch);
  }
}

/* The URI clients should use, as nbdkit sets $uri: nbds:// when TLS
 * is required (the client brings its own credentials).
 */
static char *
make_uri (struct nbds_frontend *fe, const char *exportname, unsigned port)
{
  const char *scheme = fe->tls == NBDS_TLS_REQUIRE ? "nbds" : "nbd";
  char *uri = NULL;
  size_t len = 0;
  FILE *fp = open_memstream (&uri, &len);

  if (fp == NULL)
    return NULL;
  if (fe->socket_path) {
    fprintf (fp, "%s+unix:///", scheme);
    uri_encode (fp, exportname);
    fputs ("?socket=", fp);
    uri_encode (fp, fe->socket_path);
  }
  else if (port) {
    const char *host = fe->ipaddr && strcmp (fe->ipaddr, "*") != 0
      ? fe->ipaddr : "localhost";

    fprintf (fp, strchr (host, ':') ? "%s://[%s]:%u/" : "%s://%s:%u/",
             scheme, host, port);
    uri_encode (fp, exportname);
  }
  if (fclose (fp) == EOF) {
    free (uri);
    return NULL;
  }
  return uri;
}

static int
make_private_socket (struct nbds_frontend *fe, struct nbds_error *err)
{
  const char *dir = getenv ("TMPDIR");

  /* Socket paths are limited to 107 bytes: fall back to /tmp. */
  if (dir == NULL || dir[0] == '\0' || strlen (dir) > 64)
    dir = "/tmp";
  if (asprintf (&fe->tmpdir, "%s/virt-bmap-nbdXXXXXX", dir) == -1) {
    fe->tmpdir = NULL;
    nbds_set_error (err, errno, "asprintf");
    return -1;
  }
  if (mkdtemp (fe->tmpdir) == NULL) {
    nbds_set_error (err, errno, "mkdtemp: %s", fe->tmpdir);
    free (fe->tmpdir);
    fe->tmpdir = NULL;
    return -1;
  }
  if (asprintf (&fe->socket_path, "%s/socket", fe->tmpdir) == -1) {
    fe->socket_path = NULL;
    nbds_set_error (err, errno, "asprintf");
    return -1;
  }
  return 0;
}

/* Opens every listening socket asked for.  Returns the TCP port (or
 * 0), or -1.
 */
static long
open_listeners (struct nbds_frontend *fe, struct nbds_server *srv,
                struct nbds_error *err)
{
  unsigned tcp_port = 0;
  int n, i, fd;

  n = nbds_socket_activation (err);
  if (n == -1)
    return -1;
  if (n > 0) {
    if (fe->unixsocket || fe->unix_private || fe->port || fe->vsock) {
      nbds_set_error (err, 0, "socket activation: -U, -p and --vsock "
                      "cannot be used");
      return -1;
    }
    for (i = 0; i < n; ++i) {
      if (nbds_server_add_listener (srv, 3 + i) == -1) {
        nbds_set_error (err, errno, "socket activation: fd %d", 3 + i);
        return -1;
      }
    }
    fe->activated = true;
    return 0;
  }

  if (fe->unix_private && make_private_socket (fe, err) == -1)
    return -1;
  if (fe->unixsocket) {
    fe->socket_path = strdup (fe->unixsocket);
    if (fe->socket_path == NULL) {
      nbds_set_error (err, errno, "strdup");
      return -1;
    }
  }
  if (fe->socket_path) {
    fd = nbds_listen_unix (fe->socket_path, err);
    if (fd == -1) {
      /* Not ours to remove: it exists, or never was. */
      free (fe->socket_path);
      fe->socket_path = NULL;
      return -1;
    }
    if (nbds_server_add_listener (srv, fd) == -1) {
      nbds_set_error (err, errno, "listener");
      return -1;
    }
  }

  if (fe->vsock) {
    unsigned long port = 10809;

    if (fe->port)
      parse_uint (fe->port, 65535, &port);
    fd = nbds_listen_vsock (port, err);
    if (fd == -1 || nbds_server_add_listener (srv, fd) == -1)
      return -1;
  }
  else if (fe->port || !fe->socket_path) {
    int fds[MAX_TCP_FDS];
    size_t nfds;

    if (nbds_listen_tcp (fe->ipaddr, fe->port ? fe->port : DEFAULT_PORT,
                         fds, MAX_TCP_FDS, &nfds, &tcp_port, err) == -1)
      return -1;
    for (i = 0; i < (int) nfds; ++i) {
      if (nbds_server_add_listener (srv, fds[i]) == -1) {
        nbds_set_error (err, errno, "listener");
        return -1;
      }
    }
  }
  return tcp_port;
}

static void
cleanup_files (struct nbds_frontend *fe)
{
  if (fe->socket_path)
    unlink (fe->socket_path);
  if (fe->tmpdir)
    rmdir (fe->tmpdir);
  if (fe->wrote_pidfile)
    unlink (fe->pidfile);
}

static int
serve_stdio (struct nbds_frontend *fe, struct nbds_server *srv)
{
  struct nbds_error err = { 0 };

  if ((fe->exit_with_parent && nbds_exit_with_parent (&err) == -1) ||
      (fe->pidfile && nbds_write_pidfile (fe->pidfile, &err) == -1)) {
    fprintf (stderr, "%s: %s\n", fe->program_name, err.msg);
    return EXIT_FAILURE;
  }
  fe->wrote_pidfile = fe->pidfile != NULL;
  nbds_install_signals (srv, STDIN_FILENO);
  /* A client's protocol error is not a failure of the server. */
  nbds_server_serve_fds (srv, STDIN_FILENO, STDOUT_FILENO);
  cleanup_files (fe);
  return EXIT_SUCCESS;
}

int
nbds_frontend_run (struct nbds_frontend *fe, struct nbds_server *srv)
{
  struct nbds_error err = { 0 };
  struct nbds_captive captive;
  CLEANUP_FREE char *uri = NULL;
  char portstr[16] = "";
  long port;
  int status, r;

  nbds_server_set_log (srv, frontend_log, fe, fe->verbose);
  if (fe->threads)
    nbds_server_set_threads (srv, fe->threads);
  nbds_server_set_handshake_timeout (srv, fe->handshake_timeout);
  nbds_server_set_max_connections (srv, fe->max_conns);
  if (fe->tls != NBDS_TLS_OFF) {
    struct nbds_tls_creds *creds;

    /* Bad credentials fail now, not at the first client. */
    creds = nbds_tls_creds_new (fe->tls_certificates, fe->tls_psk,
                                fe->tls_verify_peer, &err);
    if (creds == NULL)
      goto error;
    nbds_server_set_tls (srv, fe->tls, creds);
  }
  if (nbds_server_export_count (srv) == 0) {
    fprintf (stderr, "%s: nothing to serve\n", fe->program_name);
    return EXIT_FAILURE;
  }
  if (fe->stdio)
    return serve_stdio (fe, srv);

  port = open_listeners (fe, srv, &err);
  if (port == -1)
    goto error;
  if (port > 0)
    snprintf (portstr, sizeof portstr, "%ld", port);
  /* -p 0 chose a port: say which, unless --run is told in $port. */
  if (fe->port && strcmp (fe->port, "0") == 0 && !fe->run)
    fprintf (stderr, "%s: listening on TCP port %s\n",
             fe->program_name, portstr);

  /* Like nbdkit: --run, --exit-with-parent and activation imply -f. */
  if (!fe->foreground && !fe->run && !fe->exit_with_parent &&
      !fe->activated && nbds_daemonize (&err) == -1)
    goto error;
  if (fe->exit_with_parent && nbds_exit_with_parent (&err) == -1)
    goto error;
  nbds_install_signals (srv, -1);
  if (fe->pidfile) {
    if (nbds_write_pidfile (fe->pidfile, &err) == -1)
      goto error;
    fe->wrote_pidfile = true;
  }

  if (fe->run) {
    const char *exportname = fe->names.len > 0 ? fe->names.ptr[0] : "";
    const struct nbds_captive_env env = {
      .uri = uri = make_uri (fe, exportname, port),
      .unixsocket = fe->socket_path,
      .port = portstr,
      .exportname = exportname,
    };

    if (nbds_captive_start (&captive, fe->run, &env, srv, &err) == -1)
      goto error;
  }

  r = nbds_server_run (srv);
  if (fe->run) {
    status = nbds_captive_finish (&captive, fe->program_name);
    /* A server failure must not hide behind a successful command. */
    if (r == -1 && status == 0)
      status = EXIT_FAILURE;
  }
  else
    status = r == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
  cleanup_files (fe);
  return status;

 error:
  fprintf (stderr, "%s: %s\n", fe->program_name, err.msg);
  cleanup_files (fe);
  return EXIT_FAILURE;
}
