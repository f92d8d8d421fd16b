/* virt-bmap query MAP OFFSET... | --path DEVICE:PATH */
#include <config.h>

#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tsv.h"
#include "virt-bmap.h"
#include "cleanup.h"

struct query {
  uint64_t offset;
  char owner[4096];             /* the innermost current owner's path */
};

static int
print_hit (void *opaque, const struct vbm_hit *h)
{
  struct query *q = opaque;
  char flags[96], inside[32];

  format_extent_flags (h->extent_flags, flags, sizeof flags);
  if (h->object_offset >= 0)
    snprintf (inside, sizeof inside, "%" PRIu64,
              (uint64_t) h->object_offset + (q->offset - h->start));
  else
    snprintf (inside, sizeof inside, "-");
  printf ("%" PRIu64 "\t%u\t%c\t%s\t", q->offset, h->disk, h->kind,
          h->device);
  tsv_write_field (stdout, h->path);
  printf ("\t%" PRIu64 "\t%s\t%" PRIu64 "\t%" PRIu64 "\t%s\n",
          h->inode, inside, h->start, h->end, flags);
  /* Former extents of deleted objects come last: say what the byte is
   * now and what it was, as a comment line TSV readers skip.
   */
  if (h->extent_flags & VBM_EXTENT_FORMER)
    printf ("# %s, formerly %s\n", q->owner[0] ? q->owner : h->device,
            h->path ? h->path : "?");
  else
    snprintf (q->owner, sizeof q->owner, "%s",
              h->path ? h->path : h->device);
  return 0;
}

/* query --path: each object's extents, then its hashes if the map has
 * them, as comment lines ("# sha256 HEX") that TSV readers skip.
 */
struct path_query {
  struct vbm_map *map;
  int64_t object;               /* whose extents are being printed, or 0 */
  int error;
};

static void
print_hashes (struct path_query *pq)
{
  struct vbm_hashes h = VBM_HASHES_INIT;
  struct vbm_error err;
  int r;

  if (pq->object == 0)
    return;
  r = vbm_map_get_hashes (pq->map, pq->object, &h, &err);
  if (r == -1) {
    fprintf (stderr, "%s: %s\n", PROG, err.msg);
    pq->error = 1;
  }
  if (r != 1)
    return;
  if (h.md5[0])
    printf ("# md5 %s\n", h.md5);
  if (h.sha1[0])
    printf ("# sha1 %s\n", h.sha1);
  if (h.sha256[0])
    printf ("# sha256 %s\n", h.sha256);
  if (h.not_hashed[0])
    printf ("# not hashed: %s\n", h.not_hashed);
}

static int
print_path_extent (void *opaque, const struct vbm_hit *h)
{
  struct path_query *pq = opaque;

  if (h->object_id != pq->object) {
    print_hashes (pq);
    pq->object = h->object_id;
  }
  return export_tsv_extent (stdout, h);
}

static void __attribute__ ((noreturn))
usage (void)
{
  printf ("Usage:\n"
          "  %s query [--disk N] MAP OFFSET...\n"
          "  %s query MAP --path DEVICE:PATH\n"
          "\n"
          "Prints every object at each disk OFFSET (decimal, 0x hex, or with\n"
          "a k/M/G/T suffix), outer objects first, one tab-separated line each:\n"
          "  offset disk kind device path inode offset_in_object start end flags\n"
          "Deleted files whose data was at OFFSET come last (flag 'former'),\n"
          "each followed by '# OWNER, formerly PATH'.\n"
          "or the extents of the file PATH on DEVICE (any hard-link name),\n"
          "as lines of 'export --format tsv', followed, if the map was built\n"
          "with --hash, by its hashes: '# sha256 HEX' lines, or\n"
          "'# not hashed: WHY'.\n",
          PROG, PROG);
  exit (EXIT_SUCCESS);
}

int
query_main (int argc, char *argv[])
{
  enum { HELP_OPTION = 256, PATH_OPTION, DISK_OPTION };
  static const struct option long_options[] = {
    { "help", no_argument, NULL, HELP_OPTION },
    { "path", required_argument, NULL, PATH_OPTION },
    { "disk", required_argument, NULL, DISK_OPTION },
    { NULL }
  };
  const char *path = NULL;
  unsigned disk = 0;
  uint64_t v;
  struct vbm_map *map;
  struct vbm_error err;
  int c, i, r = EXIT_SUCCESS;

  while ((c = getopt_long (argc, argv, "", long_options, NULL)) != -1) {
    switch (c) {
    case HELP_OPTION: usage ();
    case PATH_OPTION: path = optarg; break;
    case DISK_OPTION:
      if (parse_offset (optarg, &v) == -1 || v >= VBM_MAX_DISKS)
        usage_error ("query: bad --disk '%s'", optarg);
      disk = v;
      break;
    default: usage_error ("query: unknown option");
    }
  }
  if (optind >= argc)
    usage_error ("query: no map file given");
  if (path == NULL && optind + 1 >= argc)
    usage_error ("query: give OFFSET... or --path DEVICE:PATH");
  if (path && optind + 1 < argc)
    usage_error ("query: give either offsets or --path, not both");

  map = vbm_map_open (argv[optind], &err);
  if (map == NULL) {
    fprintf (stderr, "%s: %s\n", PROG, err.msg);
    return EXIT_FAILURE;
  }
  if (path) {
    CLEANUP_FREE char *device = strdup (path);
    char *colon = device ? strchr (device, ':') : NULL;
    struct path_query pq = { .map = map };
    int64_t n;

    if (colon == NULL)
      usage_error ("query: --path wants DEVICE:PATH, e.g. /dev/sda1:/etc/passwd");
    *colon = '\0';
    n = vbm_map_lookup_path (map, device, colon + 1, print_path_extent,
                             &pq, &err);
    if (n > 0)
      print_hashes (&pq);
    if (pq.error)
      r = EXIT_FAILURE;
    if (n == -1) {
      fprintf (stderr, "%s: %s\n", PROG, err.msg);
      r = EXIT_FAILURE;
    }
    else if (n == 0) {
      fprintf (stderr, "%s: %s: no such object in the map\n", PROG, path);
      r = EXIT_FAILURE;
    }
  }
  for (i = optind + 1; i < argc; ++i) {
    struct query q = { .owner = "" };
    int64_t n;

    if (parse_offset (argv[i], &q.offset) == -1)
      usage_error ("query: bad offset '%s'", argv[i]);
    n = vbm_map_lookup (map, disk, q.offset, print_hit, &q, &err);
    if (n == -1)
      fprintf (stderr, "%s: %s\n", PROG, err.msg);
    else if (n == 0)
      fprintf (stderr, "%s: offset %s is not on disk %u\n", PROG, argv[i],
               disk);
    if (n <= 0)
      r = EXIT_FAILURE;
  }
  vbm_map_close (map);
  return r;
}
