/* Error reporting: library functions fill a caller-owned vbm_error. */
#include <config.h>

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "internal.h"

void
vbm_set_error (struct vbm_error *err, int errnum, const char *fs, ...)
{
  va_list args;

  if (err == NULL)
    return;
  err->errnum = errnum;
  va_start (args, fs);
  vsnprintf (err->msg, sizeof err->msg, fs, args);
  va_end (args);
}

void
vbm_prefix_error (struct vbm_error *err, const char *fs, ...)
{
  char prefix[VBM_ERROR_MAX], old[VBM_ERROR_MAX];
  va_list args;

  if (err == NULL)
    return;
  va_start (args, fs);
  vsnprintf (prefix, sizeof prefix, fs, args);
  va_end (args);
  memcpy (old, err->msg, sizeof old);
  /* A message too long for the buffer is cut short; that is fine. */
  if (snprintf (err->msg, sizeof err->msg, "%s: %s", prefix, old)
      >= (int) sizeof err->msg)
    err->msg[sizeof err->msg - 1] = '\0';
}
