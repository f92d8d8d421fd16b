/* Where a report goes: standard output for "-", else a file written
 * under a temporary name beside it and renamed into place, so that a
 * failed run leaves no half report and an earlier one intact
 * (common/atomic-file.h).
 */
#include <config.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "report.h"

int
report_file_open (struct report_file *rf, const char *path)
{
  int fd = -1;

  rf->path = path;
  rf->std = strcmp (path, "-") == 0;
  if (rf->std) {
    rf->fp = stdout;
    return 0;
  }
  /* The stream on a copy: commit needs the descriptor after fclose. */
  if (atomic_file_open (&rf->out, path, 0) == -1 ||
      (fd = dup (rf->out.fd)) == -1 ||
      (rf->fp = fdopen (fd, "w")) == NULL) {
    fprintf (stderr, "%s: %s: %s\n", RPROG, path, strerror (errno));
    if (fd >= 0)
      close (fd);
    atomic_file_abort (&rf->out);
    return -1;
  }
  return 0;
}

int
report_file_close (struct report_file *rf, int r)
{
  errno = 0;
  if (rf->std ? fflush (rf->fp) == EOF : fclose (rf->fp) == EOF)
    r = -1;
  if (r == 0 && !rf->std && atomic_file_commit (&rf->out) == -1)
    r = -1;
  if (r == -1) {
    fprintf (stderr, "%s: writing %s: %s\n", RPROG,
             rf->std ? "the report" : rf->path,
             errno ? strerror (errno) : "error");
    if (!rf->std)
      atomic_file_abort (&rf->out);   /* nothing after a failed commit */
  }
  return r;
}
