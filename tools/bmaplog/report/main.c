/* bmaplog report: the command line, and the order of the work: read
 * the trace (streaming), join the map, write the outputs.
 */
#include <config.h>

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bmaplog.h"
#include "cleanup.h"
#include "report.h"

#define DEFAULT_TOP 30

static void __attribute__ ((noreturn))
usage (int status)
{
  if (status != EXIT_SUCCESS) {
    fprintf (stderr, "Try '%s --help' for more information.\n", RPROG);
    exit (status);
  }
  printf ("%s: forensic reports made from a bmaplog trace\n"
          "\n"
          "Usage:\n"
          "  %s [-m MAP] [-o REPORT.html] [--json FILE] [OPTIONS] TRACE\n"
          "  %s --diff [-o DIFF.html] [--json FILE] [OPTIONS] TRACE1 TRACE2\n"
          "  %s --prefetch PLAN TRACE [TRACE...]\n"
          "\n"
          "A text summary goes to standard output.\n"
          "\n"
          "  -m, --map MAP        the map the trace was made with (default:\n"
          "                       the one named in the trace's header)\n"
          "  -o, --html FILE      write a self-contained HTML report\n"
          "      --json FILE      write the report as JSON ('-': standard\n"
          "                       output, instead of the text summary)\n"
          "  -q, --quiet          no text summary\n"
          "      --top N          rows of the long text tables (default %d,\n"
          "                       0: all); JSON and HTML have every row\n"
          "      --no-checksum    do not compute the images' SHA-256\n"
          "      --diff           compare two traces: files read in only one,\n"
          "                       files whose read volume changed most\n"
          "      --prefetch PLAN  write the ranges the traces read, merged,\n"
          "                       in order of first access, as a prefetch plan\n"
          "                       for bmaplog/virt-bmap-nbd --prefetch\n"
          "\n"
          "Example:\n"
          "  %s boot.jsonl -m disk.bmap -o boot.html\n"
          "\n"
          "See bmaplog(1).\n",
          RPROG, RPROG, RPROG, RPROG, DEFAULT_TOP, RPROG);
  exit (EXIT_SUCCESS);
}

enum { OPT_JSON = 0x100, OPT_TOP, OPT_NO_CHECKSUM, OPT_DIFF, OPT_PREFETCH };

static const struct option long_options[] = {
  { "map", required_argument, NULL, 'm' },
  { "html", required_argument, NULL, 'o' },
  { "json", required_argument, NULL, OPT_JSON },
  { "quiet", no_argument, NULL, 'q' },
  { "top", required_argument, NULL, OPT_TOP },
  { "no-checksum", no_argument, NULL, OPT_NO_CHECKSUM },
  { "diff", no_argument, NULL, OPT_DIFF },
  { "prefetch", required_argument, NULL, OPT_PREFETCH },
  { "help", no_argument, NULL, 'h' },
  { NULL }
};

/* Writes one output to path ("-": standard output) through fn. */
static int
output (struct report *rep, const char *path,
        int (*fn) (struct report *, FILE *))
{
  struct report_file rf;

  if (report_file_open (&rf, path) == -1)
    return -1;
  return report_file_close (&rf, fn (rep, rf.fp));
}

static int
report_one (const char *trace, const char *map_path, const char *html,
            const char *json, bool quiet, unsigned top, bool checksum)
{
  struct report rep = { .trace_path = trace, .top = top };
  struct vbm_map *map = NULL;
  CLEANUP_FREE char *abs_trace = realpath (trace, NULL);
  CLEANUP_FREE char *abs_map = NULL;
  int r = -1;

  /* Absolute paths in the provenance: the report outlives the cwd. */
  if (abs_trace)
    rep.trace_path = abs_trace;

  if (trace_open (&rep.reader, trace) == -1) {
    fprintf (stderr, "%s: %s: %s\n", RPROG, trace, rep.reader.err);
    goto out;
  }
  if (map_path == NULL) {
    map_path = rep.reader.header.map_path;
    if (map_path == NULL) {
      fprintf (stderr, "%s: %s names no map (a trace without a header): "
               "give it with -m MAP\n", RPROG, trace);
      goto out;
    }
    if (access (map_path, R_OK) == -1) {
      fprintf (stderr, "%s: %s: the trace's map: %s: give the map with "
               "-m MAP\n", RPROG, map_path, strerror (errno));
      goto out;
    }
  }
  abs_map = realpath (map_path, NULL);
  if (abs_map)
    map_path = abs_map;
  if (report_map_open (&rep, &map, map_path) == -1)
    goto out;
  if (grid_init (&rep.grid, rep.ndisks, rep.disk_size) == -1 ||
      agg_init (&rep.agg, rep.ndisks, &rep.grid) == -1) {
    fprintf (stderr, "%s: %s\n", RPROG, strerror (errno));
    goto out;
  }
  if (agg_read_trace (&rep.agg, &rep.reader, trace) == -1)
    goto out;
  if (report_map_join (&rep, map) == -1)
    goto out;
  report_images (&rep, map, checksum);
  if (agg_finish (&rep.agg, true) == -1) {
    fprintf (stderr, "%s: %s\n", RPROG, strerror (ENOMEM));
    goto out;
  }
  if (rep.agg.not_in_map)
    report_warn (&rep, "%" PRIu64 " traced object(s) are not in %s: was the "
                 "trace made with another map?", rep.agg.not_in_map,
                 map_path);

  r = 0;
  if (html && output (&rep, html, report_html) == -1)
    r = -1;
  if (json && output (&rep, json, report_json) == -1)
    r = -1;
  if (!quiet && !(json && strcmp (json, "-") == 0) &&
      output (&rep, "-", report_text) == -1)
    r = -1;

 out:
  vbm_map_close (map);
  report_free (&rep);
  return r;
}

int
report_main (int argc, char *argv[])
{
  const char *map = NULL, *html = NULL, *json = NULL, *prefetch = NULL;
  bool quiet = false, checksum = true, diff = false;
  unsigned long top = DEFAULT_TOP;
  char *end;
  int c, n;

  optind = 1;
  while ((c = getopt_long (argc, argv, "m:o:qh", long_options, NULL)) != -1) {
    switch (c) {
    case 'm': map = optarg; break;
    case 'o': html = optarg; break;
    case OPT_JSON: json = optarg; break;
    case 'q': quiet = true; break;
    case OPT_TOP:
      errno = 0;
      top = strtoul (optarg, &end, 10);
      if (errno || *end || end == optarg || top > UINT32_MAX ||
          optarg[0] == '-') {
        fprintf (stderr, "%s: --top: not a number of rows: '%s'\n", RPROG,
                 optarg);
        return EXIT_FAILURE;
      }
      break;
    case OPT_NO_CHECKSUM: checksum = false; break;
    case OPT_DIFF: diff = true; break;
    case OPT_PREFETCH: prefetch = optarg; break;
    case 'h': usage (EXIT_SUCCESS);
    default: usage (EXIT_FAILURE);
    }
  }
  n = argc - optind;
  if (prefetch) {
    if (diff || html || json || map) {
      fprintf (stderr, "%s: --prefetch writes a plan only (no --diff, -o, "
               "--json or -m)\n", RPROG);
      usage (EXIT_FAILURE);
    }
    if (n < 1) {
      fprintf (stderr, "%s: --prefetch: give one or more traces\n", RPROG);
      usage (EXIT_FAILURE);
    }
    return report_prefetch (prefetch, &argv[optind], n) == 0
      ? EXIT_SUCCESS : EXIT_FAILURE;
  }
  if (diff) {
    if (n != 2) {
      fprintf (stderr, "%s: --diff compares two traces\n", RPROG);
      usage (EXIT_FAILURE);
    }
    return report_diff (argv[optind], argv[optind + 1], json, html, quiet,
                        top) == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
  }
  if (n != 1) {
    fprintf (stderr, "%s: give one trace (or --diff and two)\n", RPROG);
    usage (EXIT_FAILURE);
  }
  return report_one (argv[optind], map, html, json, quiet, top, checksum) == 0
    ? EXIT_SUCCESS : EXIT_FAILURE;
}
