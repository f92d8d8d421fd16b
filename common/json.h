/* Writing JSON strings. */
#ifndef VBM_JSON_H
#define VBM_JSON_H

#include <stdio.h>

/* Writes s as a JSON string, quotes included.  Bytes that are not
 * UTF-8 (file names are bytes) pass through unchanged.
 */
extern void json_write_string (FILE *fp, const char *s);

#endif /* VBM_JSON_H */
