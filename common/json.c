#include <config.h>

#include "json.h"

void
json_write_string (FILE *fp, const char *s)
{
  fputc ('"', fp);
  for (; *s; ++s) {
    unsigned char c = *s;
    if (c == '"' || c == '\\')
      fprintf (fp, "\\%c", c);
    else if (c < 0x20 || c == 0x7f)
      fprintf (fp, "\\u%04x", c);
    else
      fputc (c, fp);
  }
  fputc ('"', fp);
}
