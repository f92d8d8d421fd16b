/* bmaplog report --diff: what changed between two boots.  Files and
 * directories are matched by device and path (an update replaces
 * files, so inodes change); each trace is folded as for a report, no
 * map needed.
 */
#include <config.h>

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "report.h"

/* One path's reads in both traces (several objects may share a path:
 * a deleted file and its replacement).
 */
struct dentry {
  const char *device, *path;
  char kind;
  uint64_t reads[2], bytes[2], first_ns[2];
  bool in[2];
};

struct side {
  const char *path;
  struct trace_reader reader;
  struct agg agg;
  struct robj **objs;           /* files and directories read, by path */
  size_t n;
  uint64_t bytes;
};

struct diff {
  struct side s[2];
  struct dentry *e;
  size_t n;
  size_t *only[2], nonly[2];
  size_t *changed, nchanged;
  size_t unchanged;
};

static int
cmp_obj_path (const void *x, const void *y)
{
  const struct robj *a = *(struct robj *const *) x;
  const struct robj *b = *(struct robj *const *) y;
  int r = strcmp (a->device, b->device);

  return r ? r : strcmp (a->path, b->path);
}

static int
cmp_key (const char *d1, const char *p1, const char *d2, const char *p2)
{
  int r = strcmp (d1, d2);

  return r ? r : strcmp (p1, p2);
}

static int
load (struct side *s)
{
  size_t i;

  if (trace_open (&s->reader, s->path) == -1) {
    fprintf (stderr, "%s: %s: %s\n", RPROG, s->path, s->reader.err);
    return -1;
  }
  if (agg_init (&s->agg, 0, NULL) == -1) {
    fprintf (stderr, "%s: %s\n", RPROG, strerror (errno));
    return -1;
  }
  if (agg_read_trace (&s->agg, &s->reader, s->path) == -1)
    return -1;
  s->objs = malloc ((s->agg.nobjs + 1) * sizeof *s->objs);
  if (agg_finish (&s->agg, false) == -1 || s->objs == NULL) {
    fprintf (stderr, "%s: %s\n", RPROG, strerror (ENOMEM));
    return -1;
  }
  for (i = 0; i < s->agg.nobjs; ++i) {
    struct robj *o = &s->agg.objs[i];
    if ((o->kind == VBM_KIND_FILE || o->kind == VBM_KIND_DIRECTORY) &&
        o->path && o->reads) {
      s->objs[s->n++] = o;
      s->bytes += o->bytes_read;
    }
  }
  if (s->n > 1)
    qsort (s->objs, s->n, sizeof *s->objs, cmp_obj_path);
  return 0;
}

static void
fold (struct dentry *e, int k, const struct robj *o)
{
  if (!e->in[k] || o->first_ns < e->first_ns[k])
    e->first_ns[k] = o->first_ns;
  e->in[k] = true;
  e->reads[k] += o->reads;
  e->bytes[k] += o->bytes_read;
}

static uint64_t
change (const struct dentry *e)
{
  return e->bytes[0] > e->bytes[1] ? e->bytes[0] - e->bytes[1]
    : e->bytes[1] - e->bytes[0];
}

static int
cmp_change (const void *x, const void *y, void *ev)
{
  const struct dentry *e = ev;
  const struct dentry *a = &e[*(const size_t *) x], *b = &e[*(const size_t *) y];
  uint64_t ca = change (a), cb = change (b);

  if (ca != cb)
    return ca > cb ? -1 : 1;
  return cmp_key (a->device, a->path, b->device, b->path);
}

struct order_ctx {
  const struct dentry *e;
  int side;
};

static int
cmp_first (const void *x, const void *y, void *ctx)
{
  const struct order_ctx *c = ctx;
  const struct dentry *a = &c->e[*(const size_t *) x];
  const struct dentry *b = &c->e[*(const size_t *) y];

  if (a->first_ns[c->side] != b->first_ns[c->side])
    return a->first_ns[c->side] < b->first_ns[c->side] ? -1 : 1;
  return cmp_key (a->device, a->path, b->device, b->path);
}

/* Merge-walks the two sorted lists into entries. */
static int
compare (struct diff *d)
{
  size_t i = 0, j = 0, k;
  struct dentry *e;

  d->e = calloc (d->s[0].n + d->s[1].n + 1, sizeof *d->e);
  for (k = 0; k < 2; ++k)
    d->only[k] = malloc ((d->s[k].n + 1) * sizeof *d->only[k]);
  d->changed = malloc ((d->s[0].n + 1) * sizeof *d->changed);
  if (d->e == NULL || d->only[0] == NULL || d->only[1] == NULL ||
      d->changed == NULL)
    return -1;
  while (i < d->s[0].n || j < d->s[1].n) {
    const struct robj *a = i < d->s[0].n ? d->s[0].objs[i] : NULL;
    const struct robj *b = j < d->s[1].n ? d->s[1].objs[j] : NULL;
    const struct robj *o;
    int r = !a ? 1 : !b ? -1 : cmp_key (a->device, a->path, b->device, b->path);

    o = r <= 0 ? a : b;
    e = &d->e[d->n];
    if (d->n == 0 || cmp_key (e[-1].device, e[-1].path, o->device, o->path)) {
      e->device = o->device;
      e->path = o->path;
      e->kind = o->kind;
      d->n++;
    }
    else
      e--;
    if (r <= 0)
      fold (e, 0, d->s[0].objs[i++]);
    if (r >= 0)
      fold (e, 1, d->s[1].objs[j++]);
  }
  for (k = 0; k < d->n; ++k) {
    e = &d->e[k];
    if (e->in[0] && !e->in[1])
      d->only[0][d->nonly[0]++] = k;
    else if (!e->in[0] && e->in[1])
      d->only[1][d->nonly[1]++] = k;
    else if (e->bytes[0] != e->bytes[1])
      d->changed[d->nchanged++] = k;
    else
      d->unchanged++;
  }
  return 0;
}

/* ---- Outputs ---- */

static void
text_side (FILE *fp, const char *label, const struct side *s)
{
  const struct trace_header *h = &s->reader.header;

  fprintf (fp, "  %s  ", label);
  text_name (fp, s->path);
  fprintf (fp, "\n      start %s, %" PRIu64 " records, %zu files "
           "and directories read, %" PRIu64 " bytes\n",
           h->start ? h->start : "unknown (no header)", s->agg.records,
           s->n, s->bytes);
}

static void
text_list (FILE *fp, const struct diff *d, int k, unsigned top)
{
  size_t i, n = d->nonly[k], shown = top && top < n ? top : n;
  char t[32];

  fprintf (fp, "\nRead only in %c (%zu", "AB"[k], n);
  if (shown < n)
    fprintf (fp, "; the first %zu, --top 0 for all", shown);
  fprintf (fp, ")\n");
  if (n == 0)
    fprintf (fp, "  none\n");
  for (i = 0; i < shown; ++i) {
    const struct dentry *e = &d->e[d->only[k][i]];
    fmt_seconds (t, sizeof t, e->first_ns[k]);
    fprintf (fp, "  %14s %c %8" PRIu64 " %14" PRIu64 "  ", t, e->kind,
             e->reads[k], e->bytes[k]);
    text_name (fp, e->device);
    fputc (' ', fp);
    text_name (fp, e->path);
    fputc ('\n', fp);
  }
}

static int
diff_text (const struct diff *d, FILE *fp, unsigned top)
{
  size_t i, shown = top && top < d->nchanged ? top : d->nchanged;

  fprintf (fp, "bmaplog report --diff\n\n");
  text_side (fp, "A", &d->s[0]);
  text_side (fp, "B", &d->s[1]);
  text_list (fp, d, 0, top);
  text_list (fp, d, 1, top);
  fprintf (fp, "\nRead volume changed most (%zu changed", d->nchanged);
  if (shown < d->nchanged)
    fprintf (fp, "; the first %zu, --top 0 for all", shown);
  fprintf (fp, ", %zu unchanged)\n  %14s %14s %15s %8s %8s  %s\n",
           d->unchanged, "bytes A", "bytes B", "change", "reads A",
           "reads B", "object");
  for (i = 0; i < shown; ++i) {
    const struct dentry *e = &d->e[d->changed[i]];
    fprintf (fp, "  %14" PRIu64 " %14" PRIu64 " %c%14" PRIu64 " %8" PRIu64
             " %8" PRIu64 "  ", e->bytes[0], e->bytes[1],
             e->bytes[1] > e->bytes[0] ? '+' : '-', change (e), e->reads[0],
             e->reads[1]);
    text_name (fp, e->device);
    fputc (' ', fp);
    text_name (fp, e->path);
    fputc ('\n', fp);
  }
  return ferror (fp) ? -1 : 0;
}

static void
json_side (FILE *fp, const struct side *s)
{
  const struct trace_header *h = &s->reader.header;

  fputs ("{\"trace\":", fp);
  json_write_string (fp, s->path);
  fputs (",\"start\":", fp);
  if (h->start)
    json_write_string (fp, h->start);
  else
    fputs ("null", fp);
  fprintf (fp, ",\"records\":%" PRIu64 ",\"objects_read\":%zu"
           ",\"bytes_read\":%" PRIu64 "}", s->agg.records, s->n, s->bytes);
}

static void
json_entry (FILE *fp, const struct dentry *e, bool first)
{
  fprintf (fp, "%s\n    {\"device\":", first ? "" : ",");
  json_write_string (fp, e->device);
  fputs (",\"path\":", fp);
  json_write_string (fp, e->path);
  fprintf (fp, ",\"kind\":\"%c\",\"a_reads\":%" PRIu64 ",\"a_bytes_read\":%"
           PRIu64 ",\"b_reads\":%" PRIu64 ",\"b_bytes_read\":%" PRIu64
           ",\"change\":%s%" PRIu64 "}", e->kind, e->reads[0], e->bytes[0],
           e->reads[1], e->bytes[1], e->bytes[1] < e->bytes[0] ? "-" : "",
           change (e));
}

static int
diff_json (const struct diff *d, FILE *fp)
{
  static const char *const names[2] = { "only_in_a", "only_in_b" };
  size_t i;
  int k;

  fprintf (fp, "{\n  \"bmaplog_diff\":1,\"version\":\"%s\",\n  \"a\":",
           PACKAGE_VERSION);
  json_side (fp, &d->s[0]);
  fputs (",\n  \"b\":", fp);
  json_side (fp, &d->s[1]);
  for (k = 0; k < 2; ++k) {
    fprintf (fp, ",\n  \"%s\":[", names[k]);
    for (i = 0; i < d->nonly[k]; ++i)
      json_entry (fp, &d->e[d->only[k][i]], i == 0);
    fputs ("]", fp);
  }
  fputs (",\n  \"changed\":[", fp);
  for (i = 0; i < d->nchanged; ++i)
    json_entry (fp, &d->e[d->changed[i]], i == 0);
  fprintf (fp, "],\n  \"unchanged\":%zu\n}\n", d->unchanged);
  return ferror (fp) ? -1 : 0;
}

static void
html_list (FILE *fp, const struct diff *d, int k)
{
  char t[32];
  size_t i;

  fprintf (fp, "<section id=\"only-%c\"><h2>Read only in %c (%zu)</h2>\n"
           "<table id=\"only-%c-table\"><thead><tr><th class=\"n\">first "
           "access (s)</th><th>kind</th><th>device</th><th>path</th>"
           "<th class=\"n\">reads</th><th class=\"n\">bytes read</th></tr>"
           "</thead><tbody>\n", "ab"[k], "AB"[k], d->nonly[k], "ab"[k]);
  for (i = 0; i < d->nonly[k]; ++i) {
    const struct dentry *e = &d->e[d->only[k][i]];
    fmt_seconds (t, sizeof t, e->first_ns[k]);
    fprintf (fp, "<tr><td class=\"n\">%s</td><td>%c</td><td class=\"mono\">",
             t, e->kind);
    html_text (fp, e->device, true);
    fputs ("</td><td class=\"path\">", fp);
    html_text (fp, e->path, true);
    fprintf (fp, "</td><td class=\"n\">%" PRIu64 "</td><td class=\"n\">%"
             PRIu64 "</td></tr>\n", e->reads[k], e->bytes[k]);
  }
  fputs ("</tbody></table></section>\n", fp);
}

/* Diverging bars: more read in B to the right, less to the left. */
static void
change_bars (FILE *fp, const struct diff *d)
{
  const double lw = 300, pw = 600, bh = 22, top = 10, mid = lw + pw / 2;
  size_t i, bars = d->nchanged < 15 ? d->nchanged : 15;
  double vmax = 1, height = top + bars * bh + 50;
  char num[32], label[300];

  for (i = 0; i < bars; ++i)
    if (change (&d->e[d->changed[i]]) > vmax)
      vmax = change (&d->e[d->changed[i]]);
  fprintf (fp, "<svg id=\"change-bars\" class=\"bars\" viewBox=\"0 0 960 "
           "%.0f\" width=\"960\" height=\"%.0f\" role=\"img\" "
           "font-family=\"sans-serif\" font-size=\"12\">\n<title>Change in "
           "bytes read, B against A</title>\n", height, height);
  for (i = 0; i < bars; ++i) {
    const struct dentry *e = &d->e[d->changed[i]];
    bool up = e->bytes[1] > e->bytes[0];
    double y = top + i * bh, w = (pw / 2 - 60) * (change (e) / vmax);

    if (w < 1)
      w = 1;
    snprintf (label, sizeof label, "%s %s", e->device, e->path);
    fprintf (fp, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\">",
             lw - 8, y + 15);
    html_text (fp, label, false);
    fmt_bytes (num, sizeof num, change (e));
    fprintf (fp, "</text><rect class=\"bar\" x=\"%.1f\" y=\"%.1f\" "
             "width=\"%.1f\" height=\"%.1f\" fill=\"%s\"/><text x=\"%.1f\" "
             "y=\"%.1f\" text-anchor=\"%s\">%c%s</text>\n",
             up ? mid : mid - w, y + 3, w, bh - 6, up ? "#0072b2" : "#d55e00",
             up ? mid + w + 4 : mid - w - 4, y + 15, up ? "start" : "end",
             up ? '+' : '-', num);
  }
  fprintf (fp, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" "
           "stroke=\"#333\"/><text x=\"%.1f\" y=\"%.1f\" "
           "text-anchor=\"middle\" font-size=\"13\">change in bytes read "
           "(B minus A): orange less, blue more</text>\n</svg>\n",
           mid, top, mid, top + bars * bh, mid, top + bars * bh + 30);
}

static int
diff_html (const struct diff *d, FILE *fp)
{
  size_t i;
  int k;

  fputs ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n"
         "<title>bmaplog report --diff</title>\n<style>\n"
         "body{font-family:system-ui,sans-serif;margin:0 auto;max-width:1100px;"
         "padding:0 16px 40px;color:#222}\nh2{border-bottom:2px solid "
         "#0072b2;font-size:1.25em;margin-top:28px}\ntable{border-collapse:"
         "collapse;font-size:.85em}\nth,td{padding:3px 8px;border-bottom:1px "
         "solid #ddd;text-align:left}\nth{background:#f2f4f7}\n"
         "td.n,th.n{text-align:right;font-variant-numeric:tabular-nums}\n"
         "td.path{word-break:break-all}.mono{font-family:monospace}\n"
         ".esc{color:#b00;background:#fee;font-family:monospace}\n"
         "</style></head>\n<body>\n<h1>What changed between two boots</h1>\n"
         "<table id=\"traces\">\n", fp);
  for (k = 0; k < 2; ++k) {
    const struct side *s = &d->s[k];
    fprintf (fp, "<tr><th>%c</th><td class=\"mono\">", "AB"[k]);
    html_text (fp, s->path, true);
    fputs ("</td><td>start ", fp);
    html_text (fp, s->reader.header.start ? s->reader.header.start
               : "unknown (no header)", true);
    fprintf (fp, ", %" PRIu64 " records, %zu files and directories read, %"
             PRIu64 " bytes</td></tr>\n", s->agg.records, s->n, s->bytes);
  }
  fputs ("</table>\n", fp);
  html_list (fp, d, 0);
  html_list (fp, d, 1);
  fprintf (fp, "<section id=\"changed\"><h2>Read volume changed most (%zu "
           "changed, %zu unchanged)</h2>\n", d->nchanged, d->unchanged);
  if (d->nchanged)
    change_bars (fp, d);
  fputs ("<table id=\"changed-table\"><thead><tr><th>kind</th><th>device"
         "</th><th>path</th><th class=\"n\">bytes A</th><th class=\"n\">"
         "bytes B</th><th class=\"n\">change</th><th class=\"n\">reads A"
         "</th><th class=\"n\">reads B</th></tr></thead><tbody>\n", fp);
  for (i = 0; i < d->nchanged; ++i) {
    const struct dentry *e = &d->e[d->changed[i]];
    fprintf (fp, "<tr><td>%c</td><td class=\"mono\">", e->kind);
    html_text (fp, e->device, true);
    fputs ("</td><td class=\"path\">", fp);
    html_text (fp, e->path, true);
    fprintf (fp, "</td><td class=\"n\">%" PRIu64 "</td><td class=\"n\">%"
             PRIu64 "</td><td class=\"n\">%s%" PRIu64 "</td><td class=\"n\">%"
             PRIu64 "</td><td class=\"n\">%" PRIu64 "</td></tr>\n",
             e->bytes[0], e->bytes[1], e->bytes[1] < e->bytes[0] ? "-" : "+",
             change (e), e->reads[0], e->reads[1]);
  }
  fputs ("</tbody></table></section>\n<footer>Made by bmaplog report "
         PACKAGE_VERSION ". Self-contained: nothing is loaded.</footer>\n"
         "</body></html>\n", fp);
  return ferror (fp) ? -1 : 0;
}

static int
write_file (const struct diff *d, const char *path,
            int (*fn) (const struct diff *, FILE *))
{
  struct report_file rf;

  if (report_file_open (&rf, path) == -1)
    return -1;
  return report_file_close (&rf, fn (d, rf.fp));
}

int
report_diff (const char *path1, const char *path2, const char *json,
             const char *html, bool quiet, unsigned top)
{
  struct diff d = { .s = { { .path = path1 }, { .path = path2 } } };
  struct order_ctx oc;
  int k, r = -1;

  if (load (&d.s[0]) == -1 || load (&d.s[1]) == -1)
    goto out;
  if (compare (&d) == -1) {
    fprintf (stderr, "%s: %s\n", RPROG, strerror (ENOMEM));
    goto out;
  }
  for (k = 0; k < 2; ++k) {
    oc.e = d.e;
    oc.side = k;
    if (d.nonly[k] > 1)
      qsort_r (d.only[k], d.nonly[k], sizeof *d.only[k], cmp_first, &oc);
  }
  if (d.nchanged > 1)
    qsort_r (d.changed, d.nchanged, sizeof *d.changed, cmp_change, d.e);

  r = 0;
  if (html && write_file (&d, html, diff_html) == -1)
    r = -1;
  if (json && write_file (&d, json, diff_json) == -1)
    r = -1;
  if (!quiet && !(json && strcmp (json, "-") == 0) &&
      (diff_text (&d, stdout, top) == -1 || fflush (stdout) == EOF))
    r = -1;

 out:
  for (k = 0; k < 2; ++k) {
    free (d.s[k].objs);
    agg_free (&d.s[k].agg);
    trace_close (&d.s[k].reader);
    free (d.only[k]);
  }
  free (d.e);
  free (d.changed);
  return r;
}
