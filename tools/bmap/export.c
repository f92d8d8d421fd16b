/* virt-bmap export MAP [--format text|tsv|json] [-o FILE] */
#include <config.h>

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "atomic-file.h"
#include "json.h"
#include "tsv.h"
#include "virt-bmap.h"

/* The original virt-bmap's line format, so old scripts keep working:
 * disk number (from 1), start and end (exclusive) in hex, kind,
 * device, and the path for filesystem objects.
 */
static int
export_text_extent (void *opaque, const struct vbm_hit *h)
{
  FILE *fp = opaque;

  fprintf (fp, "%u %" PRIx64 " %" PRIx64 " %c %s", h->disk + 1, h->start,
           h->end, h->kind, h->device);
  if (h->path)
    fprintf (fp, " %s", h->path);
  fputc ('\n', fp);
  return 0;
}

int
export_tsv_extent (void *opaque, const struct vbm_hit *h)
{
  FILE *fp = opaque;
  char eflags[96], oflags[64], offset[32];

  format_extent_flags (h->extent_flags, eflags, sizeof eflags);
  format_object_flags (h->object_flags, oflags, sizeof oflags);
  if (h->object_offset >= 0)
    snprintf (offset, sizeof offset, "%" PRId64, h->object_offset);
  else
    snprintf (offset, sizeof offset, "-");
  if (h->start == h->end)       /* an object without extents */
    fprintf (fp, "%u\t-\t-\t%c\t%s\t", h->disk, h->kind, h->device);
  else
    fprintf (fp, "%u\t%" PRIu64 "\t%" PRIu64 "\t%c\t%s\t",
             h->disk, h->start, h->end, h->kind, h->device);
  tsv_write_field (fp, h->path);
  fprintf (fp, "\t%" PRIu64 "\t%s\t%s\t%" PRIu64 "\t%s\n",
           h->inode, offset, eflags, h->object_size, oflags);
  return 0;
}

struct json_state {
  FILE *fp;
  bool first;
};

static int
export_json_extent (void *opaque, const struct vbm_hit *h)
{
  struct json_state *js = opaque;
  FILE *fp = js->fp;
  char eflags[96], oflags[64];

  format_extent_flags (h->extent_flags, eflags, sizeof eflags);
  format_object_flags (h->object_flags, oflags, sizeof oflags);
  fprintf (fp, "%s\n  {\"disk\": %u, \"start\": %" PRIu64 ", \"end\": %" PRIu64
           ", \"kind\": \"%c\", \"device\": ",
           js->first ? "" : ",", h->disk, h->start, h->end, h->kind);
  json_write_string (fp, h->device);
  fputs (", \"path\": ", fp);
  if (h->path)
    json_write_string (fp, h->path);
  else
    fputs ("null", fp);
  fprintf (fp, ", \"inode\": %" PRIu64 ", \"object_offset\": ", h->inode);
  if (h->object_offset >= 0)
    fprintf (fp, "%" PRId64, h->object_offset);
  else
    fputs ("null", fp);
  fprintf (fp, ", \"extent_flags\": \"%s\", \"object_size\": %" PRIu64
           ", \"object_flags\": \"%s\"}",
           strcmp (eflags, "-") ? eflags : "", h->object_size,
           strcmp (oflags, "-") ? oflags : "");
  js->first = false;
  return 0;
}

static void __attribute__ ((noreturn))
usage (void)
{
  printf ("Usage: %s export MAP [--format text|tsv|json] [-o FILE]\n"
          "\n"
          "Prints every extent of the map, ordered by disk and offset.\n"
          "  text  the original virt-bmap format: DISK START END KIND DEVICE [PATH]\n"
          "        with hex offsets, END exclusive, DISK from 1\n"
          "  tsv   tab-separated with a header line (default)\n"
          "  json  one JSON document {\"extents\": [...]}\n", PROG);
  exit (EXIT_SUCCESS);
}

int
export_main (int argc, char *argv[])
{
  enum { HELP_OPTION = 256, FORMAT_OPTION };
  static const struct option long_options[] = {
    { "help", no_argument, NULL, HELP_OPTION },
    { "format", required_argument, NULL, FORMAT_OPTION },
    { "output", required_argument, NULL, 'o' },
    { NULL }
  };
  const char *format = "tsv", *output = NULL;
  struct atomic_file out;
  struct vbm_map *map;
  struct vbm_error err;
  struct json_state js = { .first = true };
  FILE *fp = stdout;
  int64_t n;
  int c, fd = -1;

  while ((c = getopt_long (argc, argv, "o:", long_options, NULL)) != -1) {
    switch (c) {
    case HELP_OPTION: usage ();
    case FORMAT_OPTION: format = optarg; break;
    case 'o': output = optarg; break;
    default: usage_error ("export: unknown option");
    }
  }
  if (strcmp (format, "text") && strcmp (format, "tsv") &&
      strcmp (format, "json"))
    usage_error ("export: unknown format '%s' (text, tsv or json)", format);
  if (optind != argc - 1)
    usage_error ("export: give exactly one map file");

  map = vbm_map_open (argv[optind], &err);
  if (map == NULL) {
    fprintf (stderr, "%s: %s\n", PROG, err.msg);
    return EXIT_FAILURE;
  }
  if (output) {
    /* Written beside the target and renamed: never a half file. */
    if (atomic_file_open (&out, output, 0) == -1 ||
        (fd = dup (out.fd)) == -1 || (fp = fdopen (fd, "w")) == NULL) {
      fprintf (stderr, "%s: %s: %s\n", PROG, output, strerror (errno));
      if (fd >= 0)
        close (fd);
      atomic_file_abort (&out);
      vbm_map_close (map);
      return EXIT_FAILURE;
    }
  }

  if (strcmp (format, "text") == 0)
    n = vbm_map_foreach (map, export_text_extent, fp, &err);
  else if (strcmp (format, "tsv") == 0) {
    fputs ("#disk\tstart\tend\tkind\tdevice\tpath\tinode\tobject_offset"
           "\textent_flags\tobject_size\tobject_flags\n", fp);
    n = vbm_map_foreach (map, export_tsv_extent, fp, &err);
  }
  else {
    js.fp = fp;
    fputs ("{\"extents\": [", fp);
    n = vbm_map_foreach (map, export_json_extent, &js, &err);
    fputs ("\n]}\n", fp);
  }
  vbm_map_close (map);
  if (n == -1)
    fprintf (stderr, "%s: %s\n", PROG, err.msg);

  if (fflush (fp) == EOF || ferror (fp)) {
    fprintf (stderr, "%s: write error: %s\n", PROG, strerror (errno));
    n = -1;
  }
  if (output) {
    if (fclose (fp) == EOF && n != -1) {
      fprintf (stderr, "%s: %s: %s\n", PROG, output, strerror (errno));
      n = -1;
    }
    if (n == -1) {
      atomic_file_abort (&out);
      return EXIT_FAILURE;
    }
    if (atomic_file_commit (&out) == -1) {
      fprintf (stderr, "%s: %s: %s\n", PROG, output, strerror (errno));
      return EXIT_FAILURE;
    }
  }
  return n == -1 ? EXIT_FAILURE : EXIT_SUCCESS;
}
