/* Formatting helpers shared by the subcommands. */
#include <config.h>

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "virt-bmap.h"

static void
format_flags (unsigned flags, const char *const *names, size_t n,
              char *buf, size_t len)
{
  size_t i, used = 0;

  buf[0] = '\0';
  for (i = 0; i < n; ++i) {
    if ((flags & (1u << i)) && used < len)
      used += snprintf (buf + used, len - used, "%s%s",
                        used ? "," : "", names[i]);
  }
  if (used == 0)
    snprintf (buf, len, "-");
}

void
format_extent_flags (unsigned flags, char *buf, size_t len)
{
  static const char *const names[] =
    { "unwritten", "past_eof", "inline", "tree", "xattr", "compressed",
      "encrypted", "shared", "former" };
  format_flags (flags, names, sizeof names / sizeof names[0], buf, len);
}

void
format_object_flags (unsigned flags, char *buf, size_t len)
{
  static const char *const names[] =
    { "unreachable", "symlink", "special", "deleted" };
  format_flags (flags, names, sizeof names / sizeof names[0], buf, len);
}

int
parse_offset (const char *s, uint64_t *r)
{
  char *end;
  unsigned long long v;
  unsigned shift = 0;

  if (!isdigit ((unsigned char) *s))
    return -1;
  errno = 0;
  v = strtoull (s, &end, 0);
  if (errno != 0 || end == s)
    return -1;
  switch (*end) {
  case '\0': break;
  case 'k': case 'K': shift = 10; end++; break;
  case 'M': shift = 20; end++; break;
  case 'G': shift = 30; end++; break;
  case 'T': shift = 40; end++; break;
  default: return -1;
  }
  if (*end != '\0' || (shift && v > (UINT64_MAX >> shift)))
    return -1;
  *r = (uint64_t) v << shift;
  return 0;
}

void
usage_error (const char *fs, ...)
{
  va_list args;

  fprintf (stderr, "%s: ", PROG);
  va_start (args, fs);
  vfprintf (stderr, fs, args);
  va_end (args);
  fprintf (stderr, "\nTry '%s --help' for more information.\n", PROG);
  exit (EXIT_FAILURE);
}
