#include <config.h>

#include <stdint.h>

#include "xml.h"

/* The length of the well-formed UTF-8 sequence at s (RFC 3629: no
 * overlong forms, no surrogates, at most U+10FFFF) that XML may
 * carry, or 0.
 */
static size_t
utf8_char (const unsigned char *s, size_t len)
{
  uint32_t c;
  size_t n, i;

  if (s[0] < 0x80)
    return s[0] >= 0x20 && s[0] != 0x7f ? 1 : 0;
  if (s[0] >= 0xc2 && s[0] <= 0xdf)
    n = 2, c = s[0] & 0x1f;
  else if (s[0] >= 0xe0 && s[0] <= 0xef)
    n = 3, c = s[0] & 0x0f;
  else if (s[0] >= 0xf0 && s[0] <= 0xf4)
    n = 4, c = s[0] & 0x07;
  else
    return 0;
  if (len < n)
    return 0;
  for (i = 1; i < n; ++i) {
    if ((s[i] & 0xc0) != 0x80)
      return 0;
    c = c << 6 | (s[i] & 0x3f);
  }
  if ((n == 3 && c < 0x800) || (n == 4 && (c < 0x10000 || c > 0x10ffff)) ||
      (c >= 0xd800 && c <= 0xdfff) || c == 0xfffe || c == 0xffff)
    return 0;
  return n;
}

void
xml_write_bytes (FILE *fp, const char *str, size_t len)
{
  const unsigned char *s = (const unsigned char *) str;
  size_t i = 0, n;

  while (i < len) {
    switch (s[i]) {
    case '&': fputs ("&amp;", fp); i++; continue;
    case '<': fputs ("&lt;", fp); i++; continue;
    case '>': fputs ("&gt;", fp); i++; continue;
    case '\'': fputs ("&apos;", fp); i++; continue;
    case '"': fputs ("&quot;", fp); i++; continue;
    }
    n = utf8_char (s + i, len - i);
    if (n == 0) {
      fprintf (fp, "\\x%02X", s[i]);
      i++;
    }
    else {
      fwrite (s + i, 1, n, fp);
      i += n;
    }
  }
}
