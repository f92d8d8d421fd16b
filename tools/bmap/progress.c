/* A one-line progress bar on stderr, only when it is a terminal. */
#include <config.h>

#include <stdio.h>
#include <unistd.h>

#include "virt-bmap.h"

void
progress_init (struct progress *p, bool enable)
{
  p->enabled = enable && isatty (STDERR_FILENO);
  p->last_percent = -1;
}

void
progress_update (struct progress *p, uint64_t done, uint64_t total)
{
  int percent, i;

  if (!p->enabled || total == 0)
    return;
  percent = done >= total ? 100 : (int) (done * 100 / total);
  if (percent == p->last_percent)
    return;
  p->last_percent = percent;
  fputs ("\r[", stderr);
  for (i = 0; i < 50; ++i)
    fputc (i < percent / 2 ? '#' : '-', stderr);
  fprintf (stderr, "] %3d%%", percent);
  fflush (stderr);
}

void
progress_end (struct progress *p)
{
  if (p->enabled && p->last_percent >= 0)
    fputs ("\r\033[K", stderr);
  p->last_percent = -1;
}
