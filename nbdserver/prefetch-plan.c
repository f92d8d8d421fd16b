/* Prefetch plans: reading one (see prefetch.h for the format). */
#include <config.h>

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "prefetch.h"

/* ---- Reading ---- */

static int
by_offset (const void *a, const void *b)
{
  const struct nbds_plan_range *x = *(const struct nbds_plan_range *const *) a;
  const struct nbds_plan_range *y = *(const struct nbds_plan_range *const *) b;

  return x->offset < y->offset ? -1 : x->offset > y->offset;
}

/* Ranges inside the disk and apart from one another. */
static int
check_disk (const char *path, const struct nbds_plan_disk *d,
            struct nbds_error *err)
{
  const struct nbds_plan_range **v;
  size_t i;
  int r = 0;

  for (i = 0; i < d->n; ++i)
    if (d->r[i].length == 0 || d->r[i].offset > d->size ||
        d->r[i].length > d->size - d->r[i].offset) {
      nbds_set_error (err, 0, "%s: disk %u: range %" PRIu64 "+%" PRIu64
                      " is empty or beyond the disk (%" PRIu64 " bytes)",
                      path, d->disk, d->r[i].offset, d->r[i].length,
                      d->size);
      err->errnum = EINVAL;
      return -1;
    }
  if (d->n < 2)
    return 0;
  v = malloc (d->n * sizeof *v);
  if (v == NULL) {
    nbds_set_error (err, errno, "malloc");
    return -1;
  }
  for (i = 0; i < d->n; ++i)
    v[i] = &d->r[i];
  qsort (v, d->n, sizeof *v, by_offset);
  for (i = 1; i < d->n; ++i)
    if (v[i - 1]->offset + v[i - 1]->length > v[i]->offset) {
      nbds_set_error (err, 0, "%s: disk %u: ranges at %" PRIu64 " and %"
                      PRIu64 " overlap", path, d->disk, v[i - 1]->offset,
                      v[i]->offset);
      err->errnum = EINVAL;
      r = -1;
      break;
    }
  free (v);
  return r;
}

static int
parse_error (struct nbds_error *err, const char *path, unsigned long line,
             const char *what)
{
  nbds_set_error (err, 0, "%s: line %lu: %s (not a prefetch plan from "
                  "bmaplog report --prefetch?)", path, line, what);
  err->errnum = EINVAL;
  return -1;
}

static int
parse (FILE *fp, const char *path, struct nbds_plan *plan,
       struct nbds_error *err)
{
  char line[256], id[NBDS_IDENTITY_LEN + 1], rest;
  unsigned long lineno = 0;
  struct nbds_plan_disk *d = NULL;
  uint64_t a, b, c;
  unsigned disk, version;
  size_t cap = 0;

  while (fgets (line, sizeof line, fp)) {
    ++lineno;
    if (strchr (line, '\n') == NULL && !feof (fp))
      return parse_error (err, path, lineno, "line too long");
    if (lineno == 1) {
      if (sscanf (line, NBDS_PLAN_MAGIC " %u %c", &version, &rest) != 1)
        return parse_error (err, path, lineno, "no '" NBDS_PLAN_MAGIC
                            "' header");
      if (version != NBDS_PLAN_VERSION)
        return parse_error (err, path, lineno, "unknown version");
      continue;
    }
    if (line[0] == '#' || line[0] == '\n')
      continue;
    if (strncmp (line, "disk ", 5) == 0) {
      if (sscanf (line, "disk %u %" SCNu64 " %80s %c", &disk, &a, id,
                  &rest) != 3 || strlen (id) >= NBDS_IDENTITY_LEN)
        return parse_error (err, path, lineno, "bad disk line");
      if (nbds_plan_find (plan, disk))
        return parse_error (err, path, lineno, "disk given twice");
      d = realloc (plan->disks, (plan->ndisks + 1) * sizeof *d);
      if (d == NULL) {
        nbds_set_error (err, errno, "realloc");
        return -1;
      }
      plan->disks = d;
      d = &plan->disks[plan->ndisks++];
      memset (d, 0, sizeof *d);
      d->disk = disk;
      d->size = a;
      strcpy (d->identity, id);
      cap = 0;
      continue;
    }
    if (d == NULL)
      return parse_error (err, path, lineno, "a range before any disk line");
    if (sscanf (line, "%" SCNu64 " %" SCNu64 " %" SCNu64 " %c", &a, &b, &c,
                &rest) != 3 || line[0] == '-' || strchr (line, '-'))
      return parse_error (err, path, lineno, "bad range line");
    if (d->n == cap) {
      struct nbds_plan_range *nr;

      cap = cap ? 2 * cap : 64;
      nr = realloc (d->r, cap * sizeof *nr);
      if (nr == NULL) {
        nbds_set_error (err, errno, "realloc");
        return -1;
      }
      d->r = nr;
    }
    d->r[d->n++] = (struct nbds_plan_range) { a, b, c };
  }
  if (ferror (fp)) {
    nbds_set_error (err, errno, "%s", path);
    return -1;
  }
  if (lineno == 0)
    return parse_error (err, path, 1, "empty file");
  return 0;
}

int
nbds_plan_read (const char *path, struct nbds_plan *plan,
                struct nbds_error *err)
{
  FILE *fp;
  size_t i;
  int r;

  memset (plan, 0, sizeof *plan);
  fp = fopen (path, "r");
  if (fp == NULL) {
    nbds_set_error (err, errno, "%s", path);
    return -1;
  }
  r = parse (fp, path, plan, err);
  fclose (fp);
  for (i = 0; r == 0 && i < plan->ndisks; ++i)
    r = check_disk (path, &plan->disks[i], err);
  if (r == -1)
    nbds_plan_free (plan);
  return r;
}

void
nbds_plan_free (struct nbds_plan *plan)
{
  size_t i;

  for (i = 0; i < plan->ndisks; ++i)
    free (plan->disks[i].r);
  free (plan->disks);
  memset (plan, 0, sizeof *plan);
}

const struct nbds_plan_disk *
nbds_plan_find (const struct nbds_plan *plan, unsigned disk)
{
  size_t i;

  for (i = 0; i < plan->ndisks; ++i)
    if (plan->disks[i].disk == disk)
      return &plan->disks[i];
  return NULL;
}
