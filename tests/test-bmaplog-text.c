/* Unit test of tools/bmaplog/tracer/text.h: each formatter prints what
 * printf (or json_write_string, tsv_write_field) prints, for edge
 * values and random ones.
 */
#include <config.h>

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "tsv.h"
#include "text.h"

static int failures;

static void
check (const char *what, const text *t, const char *want)
{
  if (t->len != strlen (want) || memcmp (t->ptr, want, t->len) != 0) {
    if (failures < 10)
      fprintf (stderr, "%s: got \"%.*s\", want \"%s\"\n",
               what, (int) t->len, t->ptr, want);
    failures++;
  }
}

static void
numbers (uint64_t v)
{
  text t = empty_vector;
  char want[128];

  if (text_room (&t, 128) == -1) {
    perror ("text_room");
    exit (EXIT_FAILURE);
  }
  text_u64 (&t, v);
  snprintf (want, sizeof want, "%" PRIu64, v);
  check ("u64", &t, want);

  t.len = 0;
  text_u64_left (&t, v, 8);
  snprintf (want, sizeof want, "%-8" PRIu64, v);
  check ("u64_left", &t, want);

  t.len = 0;
  text_hex (&t, v, 9);
  snprintf (want, sizeof want, "%09" PRIx64, v);
  check ("hex 9", &t, want);

  t.len = 0;
  text_hex (&t, v, 1);
  snprintf (want, sizeof want, "%" PRIx64, v);
  check ("hex", &t, want);

  t.len = 0;
  text_int (&t, (int) v);
  snprintf (want, sizeof want, "%d", (int) v);
  check ("int", &t, want);
  text_reset (&t);
}

/* A string as JSON and as a TSV field. */
static void
string (const char *s)
{
  text t = empty_vector;
  char *want = NULL;
  size_t len = 0;
  FILE *fp = open_memstream (&want, &len);

  if (fp == NULL || text_room (&t, 2 + 6 * strlen (s)) == -1) {
    perror ("string");
    exit (EXIT_FAILURE);
  }
  json_write_string (fp, s);
  fclose (fp);
  text_json_string (&t, s, strlen (s));
  check ("json", &t, want);
  free (want);

  want = NULL;
  fp = open_memstream (&want, &len);
  if (fp == NULL) {
    perror ("open_memstream");
    exit (EXIT_FAILURE);
  }
  tsv_write_field (fp, s);
  fclose (fp);
  t.len = 0;
  text_tsv_field (&t, s, strlen (s));
  check ("tsv", &t, want);
  free (want);
  text_reset (&t);
}

int
main (void)
{
  static const uint64_t edges[] = {
    0, 1, 9, 10, 99, 100, 12345678, 99999999, 100000000, 0xfffffffff,
    0x1000000000, INT32_MAX, (uint64_t) INT32_MAX + 1, UINT32_MAX,
    (uint64_t) INT32_MIN, UINT64_MAX / 10, UINT64_MAX - 1, UINT64_MAX,
  };
  uint64_t x = 88172645463325252ULL;
  char s[64];
  size_t i, j;

  uint64_t p10 = 1;

  for (i = 0; i < sizeof edges / sizeof edges[0]; ++i)
    numbers (edges[i]);
  /* Where the number of digits changes, in decimal and in hex. */
  for (i = 0; i < 20; ++i, p10 *= 10) {
    numbers (p10 - 1);
    numbers (p10);
    numbers (p10 + 1);
  }
  for (i = 0; i < 64; ++i) {
    numbers ((uint64_t) 1 << i);
    numbers (((uint64_t) 1 << i) - 1);
  }
  for (i = 0; i < 100000; ++i) {
    x ^= x << 13; x ^= x >> 7; x ^= x << 17;
    numbers (x >> (x % 64));
  }

  string ("");
  string ("/etc/passwd");
  string ("\"quoted\" back\\slash\ttab\nnewline\rreturn\x01\x1f\x7f del");
  string ("caf\xc3\xa9 \xff\xfe not utf-8");
  for (i = 0; i < 10000; ++i) {
    for (j = 0; j < sizeof s - 1; ++j) {
      x ^= x << 13; x ^= x >> 7; x ^= x << 17;
      s[j] = 1 + x % 255;
    }
    s[j] = '\0';
    string (s);
  }

  if (failures) {
    fprintf (stderr, "test-bmaplog-text: %d failures\n", failures);
    return EXIT_FAILURE;
  }
  printf ("test-bmaplog-text: ok\n");
  return EXIT_SUCCESS;
}
