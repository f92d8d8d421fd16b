/* bmaplog report --prefetch: a prefetch plan (nbdserver/prefetch.h
 * has the format) from one or more traces of the same disks.
 *
 * Every successful read piece is kept (disk, range, time, its place
 * in its trace); per disk, pieces that overlap or touch are merged
 * into one range, whose time is, per trace, that of its first byte
 * read, and over the traces that read it, the median.  Ranges are
 * written by that time, then by trace order: with one trace, the
 * order in which the guest first met them.  The plan is keyed by each
 * disk's identity, computed from the image the traces name.
 */
#include <config.h>

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "report.h"
#include "prefetch.h"

struct piece {
  uint64_t offset, end, t_ns, seq;
  unsigned disk, trace;
};

struct prange {
  uint64_t offset, end, t_ns;   /* t_ns: the median */
  unsigned trace;               /* the first trace that read it */
  uint64_t seq;                 /* its first piece there */
};

struct pdisk {
  char *path, *format;
  uint64_t size;
  char identity[NBDS_IDENTITY_LEN];
};

struct plan_state {
  struct piece *p;
  size_t n, cap;
  struct pdisk *disks;
  size_t ndisks;
  unsigned ntraces;
};

static int
add_piece (struct plan_state *s, const struct piece *pc)
{
  if (s->n == s->cap) {
    size_t cap = s->cap ? 2 * s->cap : 4096;
    struct piece *np = realloc (s->p, cap * sizeof *np);

    if (np == NULL)
      return -1;
    s->p = np;
    s->cap = cap;
  }
  s->p[s->n++] = *pc;
  return 0;
}

/* The identity of the image a trace names for a disk. */
static int
image_identity (const struct trace_image *im, char id[NBDS_IDENTITY_LEN])
{
  struct vbm_source *src;
  struct vbm_error verr;
  int r;

  src = vbm_source_open (im->path, im->format, &verr);
  if (src == NULL) {
    fprintf (stderr, "%s: the traced disk %u: %s\n", RPROG, im->disk,
             verr.msg);
    return -1;
  }
  if (vbm_source_size (src) != im->size) {
    fprintf (stderr, "%s: %s: %" PRIu64 " bytes, but the trace says %"
             PRIu64 ": not the traced disk any more\n", RPROG, im->path,
             vbm_source_size (src), im->size);
    vbm_source_close (src);
    return -1;
  }
  r = vbm_source_identity (src, id, &verr);
  if (r == -1)
    fprintf (stderr, "%s: %s\n", RPROG, verr.msg);
  vbm_source_close (src);
  return r;
}

/* The disks of a trace's header: the first trace sets them, the
 * others must name the same disks (same identity, wherever they are).
 */
static int
check_images (struct plan_state *s, const struct trace_reader *r,
              const char *path)
{
  const struct trace_header *h = &r->header;
  char id[NBDS_IDENTITY_LEN];
  size_t i;

  if (!h->present || h->nimages == 0) {
    fprintf (stderr, "%s: %s has no header naming its disks (an old "
             "trace?): a plan needs the disks' identity\n", RPROG, path);
    return -1;
  }
  if (s->disks == NULL) {
    s->disks = calloc (h->nimages, sizeof *s->disks);
    if (s->disks == NULL)
      return -1;
    s->ndisks = h->nimages;
    for (i = 0; i < h->nimages; ++i) {
      s->disks[i].path = strdup (h->images[i].path);
      s->disks[i].format = strdup (h->images[i].format);
      s->disks[i].size = h->images[i].size;
      if (!s->disks[i].path || !s->disks[i].format) {
        fprintf (stderr, "%s: %s\n", RPROG, strerror (errno));
        return -1;
      }
      if (image_identity (&h->images[i], s->disks[i].identity) == -1)
        return -1;
    }
    return 0;
  }
  if (h->nimages != s->ndisks) {
    fprintf (stderr, "%s: %s traced %zu disk(s), the first trace %zu: "
             "a plan is made from traces of the same disks\n", RPROG, path,
             h->nimages, s->ndisks);
    return -1;
  }
  for (i = 0; i < h->nimages; ++i) {
    if (strcmp (h->images[i].path, s->disks[i].path) == 0 &&
        h->images[i].size == s->disks[i].size)
      continue;
    if (image_identity (&h->images[i], id) == -1)
      return -1;
    if (strcmp (id, s->disks[i].identity) != 0) {
      fprintf (stderr, "%s: %s: disk %zu (%s) is not the first trace's "
               "(%s): a plan is made from traces of the same disks\n",
               RPROG, path, i, h->images[i].path, s->disks[i].path);
      return -1;
    }
  }
  return 0;
}

static int
read_one (struct plan_state *s, const char *path)
{
  struct trace_reader r;
  struct trace_record rec;
  uint64_t seq = 0;
  int k, ret = -1;

  if (trace_open (&r, path) == -1) {
    fprintf (stderr, "%s: %s: %s\n", RPROG, path, r.err);
    return -1;
  }
  if (check_images (s, &r, path) == -1)
    goto out;
  while ((k = trace_next (&r, &rec)) == 1) {
    struct piece pc;

    if (rec.op != TRACE_OP_READ || rec.error || rec.length == 0)
      continue;
    if (rec.disk >= s->ndisks || rec.offset > s->disks[rec.disk].size ||
        rec.length > s->disks[rec.disk].size - rec.offset) {
      fprintf (stderr, "%s: %s: line %" PRIu64 ": a read outside the "
               "traced disks\n", RPROG, path, r.line);
      goto out;
    }
    pc = (struct piece) {
      .offset = rec.offset, .end = rec.offset + rec.length,
      .t_ns = rec.t_ns, .seq = seq++, .disk = rec.disk, .trace = s->ntraces,
    };
    if (add_piece (s, &pc) == -1) {
      fprintf (stderr, "%s: %s\n", RPROG, strerror (errno));
      goto out;
    }
  }
  if (k == -1) {
    fprintf (stderr, "%s: %s: %s\n", RPROG, path, r.err);
    goto out;
  }
  s->ntraces++;
  ret = 0;
 out:
  trace_close (&r);
  return ret;
}

static int
cmp_piece (const void *a, const void *b)
{
  const struct piece *x = a, *y = b;

  if (x->disk != y->disk)
    return x->disk < y->disk ? -1 : 1;
  return x->offset < y->offset ? -1 : x->offset > y->offset;
}

static int
cmp_u64 (const void *a, const void *b)
{
  uint64_t x = *(const uint64_t *) a, y = *(const uint64_t *) b;

  return x < y ? -1 : x > y;
}

static int
cmp_prange (const void *a, const void *b)
{
  const struct prange *x = a, *y = b;

  if (x->t_ns != y->t_ns)
    return x->t_ns < y->t_ns ? -1 : 1;
  if (x->trace != y->trace)
    return x->trace < y->trace ? -1 : 1;
  if (x->seq != y->seq)
    return x->seq < y->seq ? -1 : 1;
  return x->offset < y->offset ? -1 : x->offset > y->offset;
}

/* One merged range from the pieces [i, j) of one disk. */
static void
merge_group (const struct plan_state *s, size_t i, size_t j,
             uint64_t *first, uint64_t *firstseq, struct prange *out)
{
  size_t k, m = 0;
  unsigned tr;

  for (tr = 0; tr < s->ntraces; ++tr)
    first[tr] = UINT64_MAX;
  out->offset = s->p[i].offset;
  out->end = s->p[i].end;
  for (k = i; k < j; ++k) {
    const struct piece *pc = &s->p[k];

    if (pc->end > out->end)
      out->end = pc->end;
    if (pc->t_ns < first[pc->trace] ||
        (pc->t_ns == first[pc->trace] && pc->seq < firstseq[pc->trace])) {
      first[pc->trace] = pc->t_ns;
      firstseq[pc->trace] = pc->seq;
    }
  }
  out->trace = UINT32_MAX;
  /* first[] is reused for the times of the traces that read it. */
  for (tr = 0; tr < s->ntraces; ++tr)
    if (first[tr] != UINT64_MAX) {
      if (out->trace == UINT32_MAX) {
        out->trace = tr;
        out->seq = firstseq[tr];
      }
      first[m++] = first[tr];
    }
  qsort (first, m, sizeof *first, cmp_u64);
  out->t_ns = m % 2 ? first[m / 2]
    : first[m / 2 - 1] + (first[m / 2] - first[m / 2 - 1]) / 2;
}

static int
write_plan (struct plan_state *s, FILE *fp)
{
  uint64_t *first = NULL, *firstseq = NULL;
  struct prange *v = NULL;
  size_t i, j, k, nv;
  unsigned d;
  int r = -1;

  qsort (s->p, s->n, sizeof *s->p, cmp_piece);
  first = malloc (s->ntraces * sizeof *first);
  firstseq = malloc (s->ntraces * sizeof *firstseq);
  v = malloc ((s->n ? s->n : 1) * sizeof *v);
  if (!first || !firstseq || !v) {
    fprintf (stderr, "%s: %s\n", RPROG, strerror (errno));
    goto out;
  }
  fprintf (fp, NBDS_PLAN_MAGIC " %d\n"
           "# A prefetch plan made by bmaplog " PACKAGE_VERSION
           " report --prefetch from %u trace(s); see bmaplog(1).\n"
           "# disk DISK SIZE IDENTITY, then its ranges in prefetch order:\n"
           "# T_NS OFFSET LENGTH (T_NS: time of first access)\n",
           NBDS_PLAN_VERSION, s->ntraces);
  i = 0;
  for (d = 0; d < s->ndisks; ++d) {
    fprintf (fp, "disk %u %" PRIu64 " %s\n", d, s->disks[d].size,
             s->disks[d].identity);
    nv = 0;
    while (i < s->n && s->p[i].disk == d) {
      uint64_t end = s->p[i].end;

      /* Pieces that overlap or touch: one range. */
      for (j = i + 1; j < s->n && s->p[j].disk == d && s->p[j].offset <= end;
           ++j)
        if (s->p[j].end > end)
          end = s->p[j].end;
      merge_group (s, i, j, first, firstseq, &v[nv++]);
      i = j;
    }
    qsort (v, nv, sizeof *v, cmp_prange);
    for (k = 0; k < nv; ++k)
      fprintf (fp, "%" PRIu64 " %" PRIu64 " %" PRIu64 "\n", v[k].t_ns,
               v[k].offset, v[k].end - v[k].offset);
  }
  r = ferror (fp) ? -1 : 0;
 out:
  free (first);
  free (firstseq);
  free (v);
  return r;
}

int
report_prefetch (const char *plan, char **traces, int ntraces)
{
  struct plan_state s = { 0 };
  struct report_file rf;
  size_t i;
  int t, r = -1;

  for (t = 0; t < ntraces; ++t)
    if (read_one (&s, traces[t]) == -1)
      goto out;
  if (report_file_open (&rf, plan) == -1)
    goto out;
  r = report_file_close (&rf, write_plan (&s, rf.fp));
 out:
  for (i = 0; i < s.ndisks; ++i) {
    free (s.disks[i].path);
    free (s.disks[i].format);
  }
  free (s.disks);
  free (s.p);
  return r;
}
