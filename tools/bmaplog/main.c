/* bmaplog: serve disk images over NBD through their block map and log
 * every request as the files it touched.
 */
#include <config.h>

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "bmaplog.h"
#include "tracer/tracer.h"

struct options {
  const char *map;
  const char *log;
  const char *trace;
  enum trace_format trace_format;
};

static const char *program_name = PROG;

static void
usage (int status)
{
  if (status != EXIT_SUCCESS) {
    fprintf (stderr, "Try '%s --help' for more information.\n", program_name);
    exit (status);
  }
  printf ("%s: serve disks over NBD and log the files each request touches\n"
          "\n"
          "Usage:\n"
          "  %s -m MAP [-o LOG] [--trace FILE] [OPTIONS] DISK [DISK...]\n"
          "  %s report [-m MAP] [-o REPORT.html] [--json FILE] TRACE\n"
          "  %s report --diff TRACE1 TRACE2\n"
          "\n"
          "  -m, --map MAP          the disks' map, from virt-bmap\n"
          "  -o, --log FILE         the human log (default: stdout)\n"
          "      --no-log           no human log\n"
          "      --trace FILE       a machine-readable trace of every request\n"
          "      --trace-format F   jsonl (default) or tsv\n"
          "\n"
          "Server options (bmaplog's default mode is --cow: the guest may\n"
          "write, the image is never modified):\n%s"
          "\n"
          "Example:\n"
          "  %s -m disk.bmap disk.img -U - --trace boot.jsonl \\\n"
          "    --run 'qemu-system-x86_64 -drive file=$nbd,format=raw,if=virtio ...'\n"
          "\n"
          "The reports made from a trace: %s report --help.\n"
          "See %s(1).\n",
          PROG, PROG, PROG, PROG, nbds_frontend_options_help, PROG, PROG, PROG);
  exit (EXIT_SUCCESS);
}

/* Below 0x100: the server's common options use values from there on. */
enum { OPT_TRACE = 0xf0, OPT_TRACE_FORMAT, OPT_NO_LOG };

static const struct option extra_long[] = {
  { "map", required_argument, NULL, 'm' },
  { "log", required_argument, NULL, 'o' },
  { "no-log", no_argument, NULL, OPT_NO_LOG },
  { "trace", required_argument, NULL, OPT_TRACE },
  { "trace-format", required_argument, NULL, OPT_TRACE_FORMAT },
  { NULL }
};

static int
parse_extra (void *opaque, int c, const char *arg)
{
  struct options *o = opaque;

  switch (c) {
  case 'm': o->map = arg; return 0;
  case 'o': o->log = arg; return 0;
  case OPT_NO_LOG: o->log = ""; return 0;
  case OPT_TRACE: o->trace = arg; return 0;
  case OPT_TRACE_FORMAT:
    if (strcmp (arg, "jsonl") == 0)
      o->trace_format = TRACE_JSONL;
    else if (strcmp (arg, "tsv") == 0)
      o->trace_format = TRACE_TSV;
    else {
      fprintf (stderr, "%s: --trace-format: jsonl or tsv, not '%s'\n",
               PROG, arg);
      return -1;
    }
    return 0;
  }
  return -1;
}

/* The map must describe these very images: same count, same sizes.
 * A changed modification time only earns a warning (copies keep the
 * content but not always the time).
 */
static int
check_map (struct vbm_map *map, const char *mapfile, char **disks, int n)
{
  struct vbm_disk_info info = VBM_DISK_INFO_INIT;
  struct vbm_error err;
  struct stat st;
  int i, nmap;

  nmap = vbm_map_ndisks (map, &err);
  if (nmap == -1) {
    fprintf (stderr, "%s: %s: %s\n", PROG, mapfile, err.msg);
    return -1;
  }
  if (nmap != n) {
    fprintf (stderr, "%s: %s maps %d disk(s) but %d were given\n",
             PROG, mapfile, nmap, n);
    return -1;
  }
  for (i = 0; i < n; ++i) {
    if (vbm_map_get_disk (map, i, &info, &err) == -1) {
      fprintf (stderr, "%s: %s: %s\n", PROG, mapfile, err.msg);
      return -1;
    }
    if (stat (disks[i], &st) == -1) {
      fprintf (stderr, "%s: %s: %s\n", PROG, disks[i], strerror (errno));
      return -1;
    }
    if (S_ISREG (st.st_mode) && (uint64_t) st.st_size != info.size) {
      fprintf (stderr, "%s: %s does not belong to %s: the map was made for "
               "%s (%" PRIu64 " bytes), this image has %" PRIu64 " bytes\n",
               PROG, mapfile, disks[i], info.path, info.size,
               (uint64_t) st.st_size);
      return -1;
    }
    if (S_ISREG (st.st_mode) && info.mtime >= 0 && st.st_mtime != info.mtime)
      fprintf (stderr, "%s: warning: %s was modified after %s was made; "
               "the map may be stale\n", PROG, disks[i], mapfile);
  }
  return 0;
}

static FILE *
open_output (const char *path)
{
  FILE *fp = fopen (path, "w");

  if (fp == NULL)
    fprintf (stderr, "%s: %s: %s\n", PROG, path, strerror (errno));
  return fp;
}

int
main (int argc, char *argv[])
{
  struct options o = { .trace_format = TRACE_JSONL };
  struct tracer *t = NULL;
  FILE *log = NULL, *trace = NULL;
  struct vbm_index *index = NULL;
  struct nbds_frontend *fe;
  struct nbds_server *srv = NULL;
  struct vbm_map *map = NULL;
  struct vbm_error err;
  enum nbds_file_mode mode;
  int first, n, i, r = EXIT_FAILURE;
  bool freed;

  if (argc > 1 && strcmp (argv[1], "report") == 0)
    return report_main (argc - 1, &argv[1]);

  fe = nbds_frontend_parse (PROG, argc, argv, "m:o:", extra_long,
                            parse_extra, &o, usage, &first);
  if (fe == NULL)
    usage (EXIT_FAILURE);
  n = argc - first;
  if (o.map == NULL || n < 1) {
    fprintf (stderr, "%s: give the map with -m MAP and at least one disk\n",
             PROG);
    usage (EXIT_FAILURE);
  }
  mode = nbds_frontend_mode_or (fe, NBDS_FILE_COW);

  map = vbm_map_open (o.map, &err);
  if (map == NULL) {
    fprintf (stderr, "%s: %s\n", PROG, err.msg);
    goto out;
  }
  if (check_map (map, o.map, &argv[first], n) == -1)
    goto out;
  index = vbm_index_load (map, &err);
  if (index == NULL) {
    fprintf (stderr, "%s: %s: %s\n", PROG, o.map, err.msg);
    goto out;
  }
  if (nbds_frontend_verbose (fe))
    fprintf (stderr, "%s: index of %s: %zu bytes\n", PROG, o.map,
             vbm_index_memory (index));

  srv = nbds_server_new ();
  if (srv == NULL) {
    perror ("nbds_server_new");
    goto out;
  }
  for (i = 0; i < n; ++i) {
    const char *disk = argv[first + i];
    struct nbds_export exp;
    struct nbds_error nerr;

    if (nbds_file_open (disk, mode, &exp, &nerr) == -1) {
      fprintf (stderr, "%s: %s\n", PROG, nerr.msg);
      goto out;
    }
    exp.name = nbds_frontend_export_name (fe, i, n, disk);
    exp.description = disk;
    if (nbds_server_add_export (srv, &exp) == -1) {
      fprintf (stderr, "%s: %s: %s\n", PROG, disk, strerror (errno));
      exp.ops->close (exp.handle);
      goto out;
    }
  }

  if (o.log == NULL)
    log = stdout;
  else if (*o.log && (log = open_output (o.log)) == NULL)
    goto out;
  if (o.trace && (trace = open_output (o.trace)) == NULL)
    goto out;
  {
    struct trace_info info = {
      .map_path = o.map, .map = map, .disks = &argv[first], .ndisks = n,
      .mode = mode,
    };
    t = tracer_new (index, log, trace, o.trace_format, &info);
  }
  log = trace = NULL;           /* the tracer's now, even if it failed */
  if (t == NULL) {
    fprintf (stderr, "%s: %s\n", PROG, strerror (errno));
    goto out;
  }
  nbds_server_set_request_hook (srv, tracer_hook, t);

  r = nbds_frontend_run (fe, srv);

  if (nbds_frontend_verbose (fe)) {
    uint64_t requests, pieces;

    tracer_counts (t, &requests, &pieces);
    fprintf (stderr, "%s: %" PRIu64 " requests, %" PRIu64 " pieces\n",
             PROG, requests, pieces);
  }

 out:
  /* The server first: no hook runs after this, unless a request is
   * stuck in a backend (hung I/O): then the tracer, the index and the
   * map must stay, as the process exits.
   */
  freed = nbds_server_free (srv);
  if (!freed) {
    fprintf (stderr, "%s: a connection was still running at exit: "
             "its last requests are missing from the log and trace\n", PROG);
    r = EXIT_FAILURE;
  }
  if (t && tracer_close (t, freed) == -1)
    r = EXIT_FAILURE;
  if (log && log != stdout)
    fclose (log);
  if (trace)
    fclose (trace);
  if (freed) {
    vbm_index_free (index);
    vbm_map_close (map);
  }
  nbds_frontend_free (fe);
  return r;
}
