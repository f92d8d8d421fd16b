/* Tab-separated fields that hold file names (which are bytes). */
#ifndef VBM_TSV_H
#define VBM_TSV_H

#include <stdio.h>

/* Writes s as one field: '-' for NULL or empty; backslash, tab, newline,
 * carriage return and other control characters escaped (\\ \t \n \r
 * \xNN), so a name never breaks a row or a column.
 */
extern void tsv_write_field (FILE *fp, const char *s);

/* Undoes tsv_write_field in place.  Returns -1 on a malformed escape
 * or one that would give a NUL byte.
 */
extern int tsv_unescape (char *s);

#endif /* VBM_TSV_H */
