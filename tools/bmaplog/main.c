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

#include "bmaplog.h"
#include "backend-source.h"
#include "prefetch.h"
#include "tracer/tracer.h"

struct options {
  const char *map;
  const char *log;
  const char *trace;
  const char *format;
  bool verify;
  enum trace_format trace_format;
  const char *prefetch;
  uint64_t window;
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
          "  %s report --prefetch PLAN TRACE [TRACE...]\n"
          "\n"
          "  -m, --map MAP          the disks' map, from virt-bmap\n"
          "      --format F         format of the disks: raw, xz, e01, qcow2 (or\n"
          "                         another format qemu-nbd reads), nbd for an\n"
          "                         NBD URI (default: detected, as virt-bmap does)\n"
          "      --verify           first check each E01 against the MD5 and\n"
          "                         SHA-1 it stores; serve nothing if one does\n"
          "                         not match\n"
          "  -o, --log FILE         the human log (default: stdout)\n"
          "      --no-log           no human log\n"
          "      --trace FILE       a machine-readable trace of every request\n"
          "      --trace-format F   jsonl (default) or tsv\n"
          "      --prefetch PLAN    read the plan's ranges (bmaplog report\n"
          "                         --prefetch) ahead of the guest\n"
          "      --prefetch-window SIZE  at most this far ahead of the\n"
          "                         guest's place in the plan (default 32M)\n"
          "\n"
          "Server options (bmaplog's default mode is --cow: the guest may\n"
          "write, the image is never modified):\n%s"
          "\n"
          "A DISK is an image file, a block device or an nbd:// or\n"
          "nbd+unix:// URI, in any format virt-bmap maps: the disk the\n"
          "map was made of (same size and identity, whatever its format).\n"
          "\n"
          "Example:\n"
          "  %s -m disk.bmap disk.img -U - --trace boot.jsonl \\\n"
          "    --run 'qemu-system-x86_64 -drive file=$nbd,format=raw,if=virtio ...'\n"
          "\n"
          "The reports made from a trace: %s report --help.\n"
          "See %s(1).\n",
          PROG, PROG, PROG, PROG, PROG, nbds_frontend_options_help, PROG, PROG,
          PROG);
  exit (EXIT_SUCCESS);
}

/* Below 0x100: the server's common options use values from there on. */
enum { OPT_TRACE = 0xf0, OPT_TRACE_FORMAT, OPT_NO_LOG, OPT_FORMAT,
       OPT_VERIFY, OPT_PREFETCH, OPT_PREFETCH_WINDOW };

static const struct option extra_long[] = {
  { "map", required_argument, NULL, 'm' },
  { "format", required_argument, NULL, OPT_FORMAT },
  { "log", required_argument, NULL, 'o' },
  { "no-log", no_argument, NULL, OPT_NO_LOG },
  { "trace", required_argument, NULL, OPT_TRACE },
  { "trace-format", required_argument, NULL, OPT_TRACE_FORMAT },
  { "verify", no_argument, NULL, OPT_VERIFY },
  { "prefetch", required_argument, NULL, OPT_PREFETCH },
  { "prefetch-window", required_argument, NULL, OPT_PREFETCH_WINDOW },
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
  case OPT_FORMAT: o->format = arg; return 0;
  case OPT_VERIFY: o->verify = true; return 0;
  case OPT_TRACE: o->trace = arg; return 0;
  case OPT_PREFETCH: o->prefetch = arg; return 0;
  case OPT_PREFETCH_WINDOW:
    if (nbds_parse_size (arg, &o->window) == -1 || o->window == 0) {
      fprintf (stderr, "%s: --prefetch-window: not a size: '%s' (bytes, "
               "or e.g. 64M)\n", PROG, arg);
      return -1;
    }
    return 0;
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

/* The map must describe these very disks: same count, and each the
 * same virtual disk (a qcow2 or an xz is compared by the disk it
 * holds, not by its file): the same size and the same identity (the
 * digest of its ends and sampled blocks, vbm_disk_identity), so that
 * a raw conversion or an NBD export of the mapped disk is accepted
 * and another image of the same size is not.  A changed modification
 * time only earns a warning (copies keep the content but not always
 * the time).
 */
static int
check_count (struct vbm_map *map, const char *mapfile, int n)
{
  struct vbm_error err;
  int nmap;

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
  return 0;
}

static int
check_disk (struct vbm_map *map, const char *mapfile, int i,
            const char *disk, const struct nbds_export *exp,
            struct nbds_disk_info *d)
{
  struct vbm_disk_info info = VBM_DISK_INFO_INIT;
  struct vbm_error err;
  struct nbds_error nerr;

  if (vbm_map_get_disk (map, i, &info, &err) == -1) {
    fprintf (stderr, "%s: %s: %s\n", PROG, mapfile, err.msg);
    return -1;
  }
  if (d->size != info.size) {
    fprintf (stderr, "%s: %s does not belong to %s: the map was made for "
             "%s (%" PRIu64 " bytes), this image has %" PRIu64 " bytes\n",
             PROG, mapfile, disk, info.path, info.size, d->size);
    return -1;
  }
  if (info.identity[0] == '\0')
    fprintf (stderr, "%s: note: %s stores no identity of disk %d (made by "
             "an older virt-bmap): only its size was checked\n",
             PROG, mapfile, i);
  else {
    if (nbds_disk_identify (exp, d, &nerr) == -1) {
      fprintf (stderr, "%s: %s: %s\n", PROG, disk, nerr.msg);
      return -1;
    }
    if (strcmp (d->identity, info.identity) != 0) {
      fprintf (stderr, "%s: %s does not belong to %s: the map was made for "
               "%s, a disk of the same size (%" PRIu64 " bytes) with other "
               "content (identity %s, this disk's is %s); if it is that "
               "disk, it was written to since: map it again\n",
               PROG, mapfile, disk, info.path, info.size, info.identity,
               d->identity);
      return -1;
    }
  }
  if (d->mtime >= 0 && info.mtime >= 0 && d->mtime != info.mtime)
    fprintf (stderr, "%s: warning: %s was modified after %s was made; "
             "the map may be stale\n", PROG, disk, mapfile);
  return 0;
}

static void
say (void *opaque, const char *msg)
{
  fprintf (stderr, "%s: %s\n", PROG, msg);
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
  struct options o = { .trace_format = TRACE_JSONL,
                       .window = NBDS_PREFETCH_WINDOW_DEFAULT };
  struct nbds_plan plan = { 0 };
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

  if (o.prefetch) {
    struct nbds_error nerr;

    if (nbds_plan_read (o.prefetch, &plan, &nerr) == -1) {
      fprintf (stderr, "%s: --prefetch: %s%s%s\n", PROG, nerr.msg,
               nerr.errnum != EINVAL ? ": " : "",
               nerr.errnum != EINVAL ? strerror (nerr.errnum) : "");
      goto out;
    }
  }

  map = vbm_map_open (o.map, &err);
  if (map == NULL) {
    fprintf (stderr, "%s: %s\n", PROG, err.msg);
    goto out;
  }
  if (check_count (map, o.map, n) == -1)
    goto out;

  srv = nbds_server_new ();
  if (srv == NULL) {
    perror ("nbds_server_new");
    goto out;
  }
  for (i = 0; i < n; ++i) {
    const char *disk = argv[first + i];
    struct nbds_export exp;
    struct nbds_disk_info d;
    struct nbds_error nerr;

    if (o.verify && nbds_disk_verify (disk, o.format, say, NULL, &nerr) == -1) {
      fprintf (stderr, "%s: %s\n", PROG, nerr.msg);
      goto out;
    }
    if (nbds_disk_open (disk, o.format, mode, nbds_frontend_verbose (fe),
                        say, NULL, &exp, &d, &nerr) == -1) {
      fprintf (stderr, "%s: %s\n", PROG, nerr.msg);
      goto out;
    }
    if (nbds_frontend_verbose (fe))
      fprintf (stderr, "%s: %s: format %s, %" PRIu64 " bytes\n",
               PROG, disk, d.format, d.size);
    if (check_disk (map, o.map, i, disk, &exp, &d) == -1) {
      exp.ops->close (exp.handle);
      goto out;
    }
    if (o.prefetch &&
        nbds_prefetch_setup (&plan, i, &exp, &d, o.window, disk,
                             say, NULL, &nerr) == -1) {
      fprintf (stderr, "%s: --prefetch %s: %s\n", PROG, o.prefetch,
               nerr.msg);
      exp.ops->close (exp.handle);
      goto out;
    }
    /* Requests handled one at a time reach a streamed source in the
     * order the client sent them (-t still says otherwise).
     */
    if (d.streamed)
      nbds_server_set_threads (srv, 1);
    exp.name = nbds_frontend_export_name (fe, i, n, disk);
    exp.description = disk;
    if (nbds_server_add_export (srv, &exp) == -1) {
      fprintf (stderr, "%s: %s: %s\n", PROG, disk, strerror (errno));
      exp.ops->close (exp.handle);
      goto out;
    }
  }

  index = vbm_index_load (map, &err);
  if (index == NULL) {
    fprintf (stderr, "%s: %s: %s\n", PROG, o.map, err.msg);
    goto out;
  }
  if (nbds_frontend_verbose (fe))
    fprintf (stderr, "%s: index of %s: %zu bytes\n", PROG, o.map,
             vbm_index_memory (index));

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
  nbds_plan_free (&plan);
  return r;
}
