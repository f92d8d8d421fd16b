#include <config.h>

#include "tsv.h"

void
tsv_write_field (FILE *fp, const char *s)
{
  if (s == NULL || *s == '\0') {
    fputc ('-', fp);
    return;
  }
  for (; *s; ++s) {
    unsigned char c = *s;
    switch (c) {
    case '\\': fputs ("\\\\", fp); break;
    case '\t': fputs ("\\t", fp); break;
    case '\n': fputs ("\\n", fp); break;
    case '\r': fputs ("\\r", fp); break;
    default:
      if (c < 0x20 || c == 0x7f)
        fprintf (fp, "\\x%02x", c);
      else
        fputc (c, fp);
    }
  }
}

static int
hexval (char c)
{
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

int
tsv_unescape (char *s)
{
  char *out = s;
  int hi, lo;

  while (*s) {
    if (*s != '\\') {
      *out++ = *s++;
      continue;
    }
    switch (s[1]) {
    case '\\': *out++ = '\\'; s += 2; break;
    case 't': *out++ = '\t'; s += 2; break;
    case 'n': *out++ = '\n'; s += 2; break;
    case 'r': *out++ = '\r'; s += 2; break;
    case 'x':
      hi = hexval (s[2]);
      lo = hi >= 0 ? hexval (s[3]) : -1;
      if (lo < 0 || (hi == 0 && lo == 0))
        return -1;
      *out++ = (char) (hi * 16 + lo);
      s += 4;
      break;
    default:
      return -1;
    }
  }
  *out = '\0';
  return 0;
}
