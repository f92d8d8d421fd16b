/* Unit test of common/xml.c: entities, fiwalk's \xHH for what XML
 * cannot carry, well-formed UTF-8 kept, malformed UTF-8 escaped byte
 * by byte.
 */
#include <config.h>

#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xml.h"

static void
check (const char *in, size_t len, const char *want)
{
  char *buf = NULL;
  size_t size = 0;
  FILE *fp = open_memstream (&buf, &size);

  assert (fp);
  xml_write_bytes (fp, in, len);
  assert (fclose (fp) == 0);
  if (strcmp (buf, want) != 0) {
    fprintf (stderr, "test-xml: got '%s', want '%s'\n", buf, want);
    exit (EXIT_FAILURE);
  }
  free (buf);
}

#define CHECK(in, want) check (in, sizeof in - 1, want)

int
main (void)
{
  CHECK ("plain/name.txt", "plain/name.txt");
  CHECK ("amp&<>'\"q", "amp&amp;&lt;&gt;&apos;&quot;q");
  CHECK ("ctl\001x", "ctl\\x01x");
  CHECK ("tab\tz\n\r", "tab\\x09z\\x0A\\x0D");
  CHECK ("nul\0z", "nul\\x00z");
  CHECK ("del\177", "del\\x7F");
  CHECK ("bad\377y", "bad\\xFFy");
  CHECK ("\303\251t\303\251", "\303\251t\303\251");            /* été */
  CHECK ("\360\237\230\200", "\360\237\230\200");              /* U+1F600 */
  CHECK ("\303", "\\xC3");                                      /* cut */
  CHECK ("\303(", "\\xC3(");                                    /* bad tail */
  CHECK ("\300\257", "\\xC0\\xAF");                             /* overlong / */
  CHECK ("\340\200\257", "\\xE0\\x80\\xAF");                    /* overlong */
  CHECK ("\355\240\200", "\\xED\\xA0\\x80");                    /* surrogate */
  CHECK ("\357\277\276", "\\xEF\\xBF\\xBE");                    /* U+FFFE */
  CHECK ("\364\220\200\200", "\\xF4\\x90\\x80\\x80");           /* > U+10FFFF */
  CHECK ("\302\205", "\302\205");                               /* U+0085 */
  return EXIT_SUCCESS;
}
