/* Text built without stdio: the log and the trace are formatted on the
 * request path, so the appends below are plain stores into room the
 * caller reserved with text_room (no locking, no format parsing, no
 * strlen for strings whose length is known).  The output is byte for
 * byte what the printf conversions named in the comments would print.
 */
#ifndef BMAPLOG_TEXT_H
#define BMAPLOG_TEXT_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "vector.h"

DEFINE_VECTOR_TYPE (text, char);

/* Room for n more bytes; -1 with errno set if it cannot be had. */
static inline int
text_room (text *t, size_t n)
{
  if (t->cap - t->len >= n)
    return 0;
  return text_reserve (t, n);
}

static inline void
text_mem (text *t, const char *s, size_t n)
{
  memcpy (t->ptr + t->len, s, n);
  t->len += n;
}

static inline void
text_char (text *t, char c)
{
  t->ptr[t->len++] = c;
}

/* A string literal, its length known at compile time. */
#define text_lit(t, s) text_mem ((t), (s), sizeof (s) - 1)

/* The number of decimal digits of v. */
static inline unsigned
text_digits (uint64_t v)
{
  static const uint64_t pow10[] = {
    1ULL, 10ULL, 100ULL, 1000ULL, 10000ULL, 100000ULL, 1000000ULL,
    10000000ULL, 100000000ULL, 1000000000ULL, 10000000000ULL,
    100000000000ULL, 1000000000000ULL, 10000000000000ULL,
    100000000000000ULL, 1000000000000000ULL, 10000000000000000ULL,
    100000000000000000ULL, 1000000000000000000ULL,
    10000000000000000000ULL,
  };
  /* v | 1 has as many digits (0 has one); bits * log10(2), with
   * log10(2) ~ 1233/4096, is right or one short (and at most 19).
   */
  const uint64_t w = v | 1;
  const unsigned n = (64 - __builtin_clzll (w)) * 1233 >> 12;

  return n + (w >= pow10[n]);
}

/* "%" PRIu64: at most 20 bytes.  Written in place, from the last
 * digit, two digits per division.
 */
static inline void
text_u64 (text *t, uint64_t v)
{
  static const char pairs[] =
    "00010203040506070809101112131415161718192021222324"
    "25262728293031323334353637383940414243444546474849"
    "50515253545556575859606162636465666768697071727374"
    "75767778798081828384858687888990919293949596979899";
  const unsigned n = text_digits (v);
  char *p = t->ptr + t->len + n;

  t->len += n;
  while (v >= 100) {
    const unsigned r = v % 100;
    v /= 100;
    p -= 2;
    p[0] = pairs[2 * r];
    p[1] = pairs[2 * r + 1];
  }
  if (v >= 10) {
    p[-2] = pairs[2 * v];
    p[-1] = pairs[2 * v + 1];
  }
  else
    p[-1] = '0' + v;
}

/* "%d": at most 11 bytes. */
static inline void
text_int (text *t, int v)
{
  if (v < 0) {
    text_char (t, '-');
    text_u64 (t, -(uint64_t) (int64_t) v);
  }
  else
    text_u64 (t, v);
}

/* "%-*" PRIu64: left-justified, padded with spaces to width (at most
 * 20 + width bytes).
 */
static inline void
text_u64_left (text *t, uint64_t v, size_t width)
{
  size_t start = t->len;

  text_u64 (t, v);
  while (t->len - start < width)
    text_char (t, ' ');
}

/* "%0*" PRIx64: zero-padded to width (at most 16 + width bytes). */
static inline void
text_hex (text *t, uint64_t v, int width)
{
  static const char digits[] = "0123456789abcdef";
  char tmp[16], *p = tmp + sizeof tmp;

  do {
    *--p = digits[v & 15];
    v >>= 4;
  } while (v);
  while (tmp + sizeof tmp - p < width) {
    text_char (t, '0');
    width--;
  }
  text_mem (t, p, tmp + sizeof tmp - p);
}

/* The JSON string for s, quotes included, as json_write_string writes
 * it: at most 2 + 6 * len bytes.  Runs of plain bytes are copied
 * whole.
 */
static inline void
text_json_string (text *t, const char *s, size_t len)
{
  static const char digits[] = "0123456789abcdef";
  size_t i = 0, plain;

  text_char (t, '"');
  while (i < len) {
    for (plain = i; plain < len; ++plain) {
      const unsigned char c = s[plain];
      if (c < 0x20 || c == '"' || c == '\\' || c == 0x7f)
        break;
    }
    text_mem (t, s + i, plain - i);
    if (plain == len)
      break;
    const unsigned char c = s[plain];
    if (c == '"' || c == '\\') {
      text_char (t, '\\');
      text_char (t, c);
    }
    else {
      text_lit (t, "\\u00");
      text_char (t, digits[c >> 4]);
      text_char (t, digits[c & 15]);
    }
    i = plain + 1;
  }
  text_char (t, '"');
}

/* s as one TSV field, as tsv_write_field writes it ('-' for NULL or
 * empty):
 * at most 4 * len + 1 bytes.
 */
static inline void
text_tsv_field (text *t, const char *s, size_t len)
{
  static const char digits[] = "0123456789abcdef";
  size_t i = 0, plain;

  if (s == NULL || len == 0) {
    text_char (t, '-');
    return;
  }
  while (i < len) {
    for (plain = i; plain < len; ++plain) {
      const unsigned char c = s[plain];
      if (c < 0x20 || c == '\\' || c == 0x7f)
        break;
    }
    text_mem (t, s + i, plain - i);
    if (plain == len)
      break;
    const unsigned char c = s[plain];
    text_char (t, '\\');
    switch (c) {
    case '\\': text_char (t, '\\'); break;
    case '\t': text_char (t, 't'); break;
    case '\n': text_char (t, 'n'); break;
    case '\r': text_char (t, 'r'); break;
    default:
      text_char (t, 'x');
      text_char (t, digits[c >> 4]);
      text_char (t, digits[c & 15]);
    }
    i = plain + 1;
  }
}

#endif /* BMAPLOG_TEXT_H */
