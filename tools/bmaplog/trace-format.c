/* The trace format's tables, expanded once for both sides. */
#include <config.h>

#include <string.h>

#include "trace-format.h"

const char *const trace_op_names[TRACE_NR_OPS] = {
#define OP_NAME(id, name) [TRACE_OP_##id] = name,
  TRACE_OPS (OP_NAME)
#undef OP_NAME
};

const char *const trace_field_names[TRACE_NR_FIELDS] = {
#define FIELD_NAME(id, name) [TRACE_F_##id] = name,
  TRACE_FIELDS (FIELD_NAME)
#undef FIELD_NAME
};

int
trace_op_find (const char *s)
{
  int i;

  for (i = 0; i < TRACE_NR_OPS; ++i)
    if (strcmp (s, trace_op_names[i]) == 0)
      return i;
  return -1;
}

int
trace_field_find (const char *s, int hint)
{
  int i, next = hint + 1;

  /* Writers keep the order, so this is one comparison per key. */
  if (next >= 0 && next < TRACE_NR_FIELDS &&
      strcmp (s, trace_field_names[next]) == 0)
    return next;
  for (i = 0; i < TRACE_NR_FIELDS; ++i)
    if (strcmp (s, trace_field_names[i]) == 0)
      return i;
  return -1;
}
