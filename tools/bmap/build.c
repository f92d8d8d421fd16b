/* virt-bmap [-o OUT] DISK...: build a map. */
#include <config.h>

#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "virt-bmap.h"
#include "cleanup.h"

static void __attribute__ ((noreturn))
usage (void)
{
  printf ("%s: map every byte of disk images to the files that own them\n"
          "\n"
          "Usage:\n"
          "  %s [-o MAP] [--format raw] [--sector-size 512|4096] [-v] [-q]\n"
          "      DISK [DISK...]\n"
          "  %s query MAP OFFSET...\n"
          "  %s query MAP --path DEVICE:PATH\n"
          "  %s export MAP [--format text|tsv|json] [-o FILE]\n"
          "\n"
          "Give all the disks of a machine at once: an LVM2 volume group\n"
          "may span several, and its LVs are mapped when all are read.\n"
          "\n"
          "Options:\n"
          "  -o, --output MAP   write the map here (default: first DISK + .bmap)\n"
          "  --format FORMAT    format of the disks: raw, xz, qcow2 (or another\n"
          "                     format qemu-nbd reads), nbd for an NBD URI\n"
          "                     (default: detect)\n"
          "  --sector-size 512|4096\n"
          "                     logical sector size of the disks, in which\n"
          "                     partition tables count (default: detect)\n"
          "  -q, --quiet        no progress bar, no summary\n"
          "  -v, --verbose      debugging messages\n"
          "  -V, --version      print the version and exit\n"
          "  --help             print this help and exit\n"
          "\n"
          "See %s(1).\n", PROG, PROG, PROG, PROG, PROG, PROG);
  exit (EXIT_SUCCESS);
}

struct build_ui {
  struct progress progress;
  bool quiet;
};

static void
on_warning (void *opaque, const char *msg)
{
  struct build_ui *ui = opaque;

  progress_end (&ui->progress);
  fprintf (stderr, "%s: warning: %s\n", PROG, msg);
}

static void
on_debug (void *opaque, const char *msg)
{
  struct build_ui *ui = opaque;

  progress_end (&ui->progress);
  fprintf (stderr, "%s: %s\n", PROG, msg);
}

static void
on_progress (void *opaque, uint64_t done, uint64_t total)
{
  struct build_ui *ui = opaque;

  progress_update (&ui->progress, done, total);
}

static void
print_summary (const struct vbm_stats *s, const char *output)
{
  printf ("%s: examined %u partitions, %u filesystems, %" PRIu64
          " directories, %" PRIu64 " files\n",
          PROG, s->partitions, s->filesystems, s->directories, s->files);
  printf ("%s: wrote %" PRIu64 " objects and %" PRIu64 " extents to %s",
          PROG, s->objects, s->extents, output);
  if (s->warnings)
    printf (" (%u warnings)", s->warnings);
  printf ("\n");
}

int
build_main (int argc, char *argv[])
{
  enum { HELP_OPTION = 256, FORMAT_OPTION, SECTOR_SIZE_OPTION };
  static const struct option long_options[] = {
    { "help", no_argument, NULL, HELP_OPTION },
    { "format", required_argument, NULL, FORMAT_OPTION },
    { "output", required_argument, NULL, 'o' },
    { "quiet", no_argument, NULL, 'q' },
    { "sector-size", required_argument, NULL, SECTOR_SIZE_OPTION },
    { "verbose", no_argument, NULL, 'v' },
    { "version", no_argument, NULL, 'V' },
    { NULL }
  };
  const char *output = NULL, *format = NULL;
  CLEANUP_FREE char *default_output = NULL;
  struct vbm_source **disks;
  struct build_ui ui = { .quiet = false };
  struct vbm_build_options opts = {
    .warning = on_warning, .progress = on_progress, .debug = on_debug,
  };
  struct vbm_stats stats;
  struct vbm_error err;
  int c, i, ndisks, r;

  while ((c = getopt_long (argc, argv, "o:qvV", long_options, NULL)) != -1) {
    switch (c) {
    case HELP_OPTION: usage ();
    case FORMAT_OPTION: format = optarg; break;
    case 'o': output = optarg; break;
    case SECTOR_SIZE_OPTION:
      if (strcmp (optarg, "512") == 0)
        opts.sector_size = 512;
      else if (strcmp (optarg, "4096") == 0)
        opts.sector_size = 4096;
      else
        usage_error ("--sector-size must be 512 or 4096");
      break;
    case 'q': ui.quiet = true; break;
    case 'v': opts.verbose = 1; break;
    case 'V':
      printf ("%s %s\n", PROG, vbm_version ());
      exit (EXIT_SUCCESS);
    default:
      usage_error ("unknown option");
    }
  }
  ndisks = argc - optind;
  if (ndisks < 1)
    usage_error ("no disk image given");
  if (output == NULL) {
    if (asprintf (&default_output, "%s.bmap", argv[optind]) == -1) {
      perror ("asprintf");
      exit (EXIT_FAILURE);
    }
    output = default_output;
  }

  disks = calloc (ndisks, sizeof *disks);
  if (disks == NULL) {
    perror ("calloc");
    exit (EXIT_FAILURE);
  }
  for (i = 0; i < ndisks; ++i) {
    disks[i] = vbm_source_open_warn (argv[optind + i], format, on_warning,
                                     &ui, &err);
    if (disks[i] == NULL) {
      fprintf (stderr, "%s: %s\n", PROG, err.msg);
      r = EXIT_FAILURE;
      goto out;
    }
  }

  progress_init (&ui.progress, !ui.quiet && !opts.verbose);
  opts.opaque = &ui;
  if (!ui.progress.enabled)
    opts.progress = NULL;
  r = vbm_build_map (output, disks, ndisks, &opts, &stats, &err);
  progress_end (&ui.progress);
  if (r == -1) {
    fprintf (stderr, "%s: %s\n", PROG, err.msg);
    r = EXIT_FAILURE;
    goto out;
  }
  if (!ui.quiet)
    print_summary (&stats, output);
  r = EXIT_SUCCESS;

 out:
  for (i = 0; i < ndisks; ++i)
    vbm_source_close (disks[i]);
  free (disks);
  return r;
}
