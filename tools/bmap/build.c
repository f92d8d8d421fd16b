/* virt-bmap [-o OUT] DISK...: build a map. */
#include <config.h>

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "atomic-file.h"
#include "cleanup.h"
#include "virt-bmap.h"

static void __attribute__ ((noreturn))
usage (void)
{
  printf ("%s: map every byte of disk images to the files that own them\n"
          "\n"
          "Usage:\n"
          "  %s [-o MAP] [--format raw] [--sector-size 512|4096] [--verify]\n"
          "      [--hash md5,sha1,sha256] [-v] [-q] DISK [DISK...]\n"
          "  %s query MAP OFFSET...\n"
          "  %s query MAP --path DEVICE:PATH\n"
          "  %s export MAP [--format text|tsv|json|dfxml] [-o FILE]\n"
          "\n"
          "Give all the disks of a machine at once (at most 255): an LVM2\n"
          "volume group may span several, and its LVs are mapped when all\n"
          "are read.\n"
          "Filesystems read: ext2/3/4, NTFS, FAT12/16/32, exFAT, XFS, btrfs\n"
          "(on one device or several given together).\n"
          "\n"
          "Options:\n"
          "  -o, --output MAP   write the map here (default: first DISK + .bmap)\n"
          "  --format FORMAT    format of the disks: raw, xz, e01 (EnCase, with\n"
          "                     its segments .E02 ...), qcow2 (or another\n"
          "                     format qemu-nbd reads), nbd for an NBD URI\n"
          "                     (default: detect)\n"
          "  --sector-size 512|4096\n"
          "                     logical sector size of the disks, in which\n"
          "                     partition tables count (default: detect)\n"
          "  --hash LIST        hash every regular file with these algorithms\n"
          "                     (md5, sha1, sha256, comma-separated) into the\n"
          "                     map, reading the disks once in disk order\n"
          "  --verify           first check each disk against the MD5 and SHA-1\n"
          "                     its E01 stores; no map if one does not match\n"
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
  if (s->hashed_files || s->not_hashed)
    printf ("%s: hashed %" PRIu64 " files (%" PRIu64 " bytes read), %"
            PRIu64 " not hashed\n", PROG, s->hashed_files, s->hashed_bytes,
            s->not_hashed);
}

/* --hash md5,sha1,sha256 */
static unsigned
parse_hashes (const char *list)
{
  static const struct { const char *name; unsigned bit; } names[] = {
    { "md5", VBM_HASH_MD5 }, { "sha1", VBM_HASH_SHA1 },
    { "sha256", VBM_HASH_SHA256 },
  };
  CLEANUP_FREE char *copy = strdup (list);
  char *tok, *save = NULL;
  unsigned r = 0;
  size_t i;

  if (copy == NULL) {
    perror ("strdup");
    exit (EXIT_FAILURE);
  }
  for (tok = strtok_r (copy, ",", &save); tok;
       tok = strtok_r (NULL, ",", &save)) {
    for (i = 0; i < sizeof names / sizeof names[0]; ++i)
      if (strcmp (tok, names[i].name) == 0)
        break;
    if (i == sizeof names / sizeof names[0])
      usage_error ("--hash: unknown algorithm '%s' (md5, sha1, sha256)", tok);
    r |= names[i].bit;
  }
  if (r == 0)
    usage_error ("--hash: no algorithm given (md5, sha1, sha256)");
  return r;
}

/* --verify: reads each disk whole against its stored hashes. */
static int
verify_disks (struct vbm_source **disks, int ndisks, struct build_ui *ui)
{
  struct vbm_source_digests d = VBM_SOURCE_DIGESTS_INIT;
  struct vbm_error err;
  int i, r;

  for (i = 0; i < ndisks; ++i) {
    progress_init (&ui->progress, !ui->quiet);
    r = vbm_source_verify (disks[i], &d, on_progress, ui, &err);
    progress_end (&ui->progress);
    if (r == -1) {
      fprintf (stderr, "%s: verify: %s\n", PROG, err.msg);
      return -1;
    }
    if (!ui->quiet) {
      if (d.stored_md5[0])
        printf ("%s: %s: MD5 %s verified\n", PROG,
                vbm_source_path (disks[i]), d.md5);
      if (d.stored_sha1[0])
        printf ("%s: %s: SHA-1 %s verified\n", PROG,
                vbm_source_path (disks[i]), d.sha1);
      fflush (stdout);
    }
  }
  return 0;
}

/* The map's temporary (atomic_file_temp_name): all a signal handler
 * can reach, as the library keeps no global state.
 */
static char *signal_temp;

static void
remove_temp (int sig)
{
  int e = errno;

  unlink (signal_temp);
  errno = e;
  /* SA_RESETHAND: once this returns, the signal kills us as usual. */
  raise (sig);
}

/* SIGINT, SIGTERM and SIGHUP remove the map's temporary before they
 * end us (kill -9 leaves it to the next run).  A signal ignored by
 * our parent (nohup, a shell's background job) stays ignored.
 */
static void
remove_temp_on_signals (const char *output)
{
  static const int sigs[] = { SIGINT, SIGTERM, SIGHUP };
  struct sigaction sa = { .sa_handler = remove_temp,
                          .sa_flags = SA_RESETHAND };
  struct sigaction old;
  size_t i;

  signal_temp = atomic_file_temp_name (output);
  if (signal_temp == NULL)
    return;
  sigemptyset (&sa.sa_mask);
  for (i = 0; i < sizeof sigs / sizeof sigs[0]; ++i)
    if (sigaction (sigs[i], NULL, &old) == 0 && old.sa_handler != SIG_IGN)
      sigaction (sigs[i], &sa, NULL);
}

int
build_main (int argc, char *argv[])
{
  enum { HELP_OPTION = 256, FORMAT_OPTION, SECTOR_SIZE_OPTION, HASH_OPTION,
         VERIFY_OPTION };
  static const struct option long_options[] = {
    { "help", no_argument, NULL, HELP_OPTION },
    { "format", required_argument, NULL, FORMAT_OPTION },
    { "hash", required_argument, NULL, HASH_OPTION },
    { "output", required_argument, NULL, 'o' },
    { "quiet", no_argument, NULL, 'q' },
    { "sector-size", required_argument, NULL, SECTOR_SIZE_OPTION },
    { "verbose", no_argument, NULL, 'v' },
    { "verify", no_argument, NULL, VERIFY_OPTION },
    { "version", no_argument, NULL, 'V' },
    { NULL }
  };
  const char *output = NULL, *format = NULL;
  CLEANUP_FREE char *default_output = NULL;
  struct vbm_source **disks;
  struct build_ui ui = { .quiet = false };
  unsigned sector_size = 0, hashes = 0;
  bool verbose = false, verify = false;
  struct vbm_build *b = NULL;
  struct vbm_stats stats = VBM_STATS_INIT;
  struct vbm_error err;
  int c, i, ndisks, r;

  while ((c = getopt_long (argc, argv, "o:qvV", long_options, NULL)) != -1) {
    switch (c) {
    case HELP_OPTION: usage ();
    case FORMAT_OPTION: format = optarg; break;
    case 'o': output = optarg; break;
    case HASH_OPTION: hashes = parse_hashes (optarg); break;
    case SECTOR_SIZE_OPTION:
      if (strcmp (optarg, "512") == 0)
        sector_size = 512;
      else if (strcmp (optarg, "4096") == 0)
        sector_size = 4096;
      else
        usage_error ("--sector-size must be 512 or 4096");
      break;
    case 'q': ui.quiet = true; break;
    case 'v': verbose = true; break;
    case VERIFY_OPTION: verify = true; break;
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
  /* vbm_build_map checks it too: say it before opening 256 sources. */
  if (ndisks > VBM_MAX_DISKS)
    usage_error ("too many disks: %d (a map holds at most %d)", ndisks,
                 VBM_MAX_DISKS);
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
  if (verify && verify_disks (disks, ndisks, &ui) == -1) {
    r = EXIT_FAILURE;
    goto out;
  }

  b = vbm_build_new (&err);
  if (b == NULL || vbm_build_set_sector_size (b, sector_size, &err) == -1 ||
      vbm_build_set_hashes (b, hashes, &err) == -1) {
    fprintf (stderr, "%s: %s\n", PROG, err.msg);
    r = EXIT_FAILURE;
    goto out;
  }
  progress_init (&ui.progress, !ui.quiet && !verbose);
  vbm_build_set_warning_callback (b, on_warning, &ui);
  vbm_build_set_debug_callback (b, on_debug, &ui);
  vbm_build_set_verbose (b, verbose);
  if (ui.progress.enabled)
    vbm_build_set_progress_callback (b, on_progress, &ui);
  remove_temp_on_signals (output);
  r = vbm_build_map (b, output, disks, ndisks, &stats, &err);
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
  vbm_build_free (b);
  for (i = 0; i < ndisks; ++i)
    vbm_source_close (disks[i]);
  free (disks);
  return r;
}
