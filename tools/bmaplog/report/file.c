/* Where a report goes: standard output for "-", else a file written
 * under a temporary name beside it and renamed into place, so that a
 * failed run leaves no half report and an earlier one intact.
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
  int fd;

  rf->path = path;
  rf->tmp = NULL;
  if (strcmp (path, "-") == 0) {
    rf->fp = stdout;
    return 0;
  }
  if (asprintf (&rf->tmp, "%s.XXXXXX", path) == -1) {
    rf->tmp = NULL;
    fprintf (stderr, "%s: %s\n", RPROG, strerror (errno));
    return -1;
  }
  fd = mkstemp (rf->tmp);
  rf->fp = fd == -1 ? NULL : fdopen (fd, "w");
  if (rf->fp == NULL) {
    fprintf (stderr, "%s: %s: %s\n", RPROG, path, strerror (errno));
    if (fd != -1) {
      close (fd);
      unlink (rf->tmp);
    }
    free (rf->tmp);
    return -1;
  }
  return 0;
}

int
report_file_close (struct report_file *rf, int r)
{
  bool std = rf->tmp == NULL;

  errno = 0;
  if (std ? fflush (rf->fp) == EOF : fclose (rf->fp) == EOF)
    r = -1;
  if (r == 0 && !std && rename (rf->tmp, rf->path) == -1)
    r = -1;
  if (r == -1) {
    fprintf (stderr, "%s: writing %s: %s\n", RPROG,
             std ? "the report" : rf->path,
             errno ? strerror (errno) : "error");
    if (!std)
      unlink (rf->tmp);
  }
  free (rf->tmp);
  return r;
}
