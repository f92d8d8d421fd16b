/* Writing XML text. */
#ifndef VBM_XML_H
#define VBM_XML_H

#include <stddef.h>
#include <stdio.h>

/* Writes the bytes s (len bytes) as XML character data, valid for any
 * input, escaped as fiwalk escapes file names: & < > ' " as entities,
 * and every byte XML 1.0 cannot carry (control characters, DEL,
 * bytes that are not well-formed UTF-8, U+FFFE and U+FFFF) as \xHH.
 */
extern void xml_write_bytes (FILE *fp, const char *s, size_t len);
static inline void
xml_write_string (FILE *fp, const char *s)
{
  xml_write_bytes (fp, s, __builtin_strlen (s));
}

#endif /* VBM_XML_H */
