/* The HTML report: one self-contained file for the case file.  Inline
 * CSS and SVG only: no scripts, no fonts, no images, nothing fetched.
 * Every name comes from an untrusted disk, so all text is escaped.
 */
#include <config.h>

#include <inttypes.h>
#include <math.h>
#include <string.h>

#include "report.h"

/* A byte (\xNN) or a character (\uNNNN) shown as an escape. */
static void
bad (FILE *fp, bool markup, bool byte, unsigned v)
{
  if (markup)
    fputs ("<span class=\"esc\">", fp);
  if (byte)
    fprintf (fp, "\\x%02x", v);
  else
    fprintf (fp, "\\u%04x", v);
  if (markup)
    fputs ("</span>", fp);
}

/* Length of the valid UTF-8 sequence at p and its code point, or 0. */
static int
utf8_seq (const unsigned char *p, unsigned *cp)
{
  int n, i;
  unsigned c = p[0], lo = 0x80, hi = 0xbf;

  if (c >= 0xc2 && c <= 0xdf) { n = 2; c &= 0x1f; }
  else if (c >= 0xe0 && c <= 0xef) {
    n = 3; c &= 0x0f;
    if (p[0] == 0xe0) lo = 0xa0;        /* overlong */
    if (p[0] == 0xed) hi = 0x9f;        /* surrogates */
  }
  else if (c >= 0xf0 && c <= 0xf4) {
    n = 4; c &= 0x07;
    if (p[0] == 0xf0) lo = 0x90;
    if (p[0] == 0xf4) hi = 0x8f;        /* past U+10FFFF */
  }
  else
    return 0;
  for (i = 1; i < n; ++i) {
    if (p[i] < lo || p[i] > hi)
      return 0;
    c = (c << 6) | (p[i] & 0x3f);
    lo = 0x80;
    hi = 0xbf;
  }
  *cp = c;
  return n;
}

/* Characters that could disguise a name: C1 controls, direction
 * marks and overrides (an "exe.txt" that displays as "txt.exe"),
 * line separators.
 */
static bool
deceptive (unsigned cp)
{
  return (cp >= 0x80 && cp < 0xa0) || cp == 0x200e || cp == 0x200f ||
    (cp >= 0x202a && cp <= 0x202e) || (cp >= 0x2066 && cp <= 0x2069) ||
    cp == 0x2028 || cp == 0x2029 || cp == 0x061c;
}

void
html_text (FILE *fp, const char *s, bool markup)
{
  const unsigned char *p = (const unsigned char *) s;
  unsigned cp;
  int n;

  if (s == NULL)
    return;
  while (*p) {
    if (*p < 0x80) {
      switch (*p) {
      case '&': fputs ("&amp;", fp); break;
      case '<': fputs ("&lt;", fp); break;
      case '>': fputs ("&gt;", fp); break;
      case '"': fputs ("&quot;", fp); break;
      case '\'': fputs ("&#39;", fp); break;
      default:
        if (*p < 0x20 || *p == 0x7f)
          bad (fp, markup, true, *p);
        else
          fputc (*p, fp);
      }
      p++;
      continue;
    }
    n = utf8_seq (p, &cp);
    if (n == 0) {
      bad (fp, markup, true, *p);
      p++;
    }
    else if (deceptive (cp)) {
      bad (fp, markup, false, cp);
      p += n;
    }
    else {
      fwrite (p, 1, n, fp);
      p += n;
    }
  }
}

static const char style[] =
  "body{font-family:system-ui,-apple-system,'Segoe UI',sans-serif;"
  "margin:0 auto;max-width:1100px;padding:0 16px 40px;color:#222;"
  "background:#fff}\n"
  "h1{font-size:1.6em;margin:20px 0 4px}h2{font-size:1.25em;margin-top:32px;"
  "border-bottom:2px solid #0072b2;padding-bottom:3px}\n"
  ".sub{color:#555;margin:0 0 12px}\n"
  "nav a{margin-right:12px;font-size:.9em}\n"
  "table{border-collapse:collapse;font-size:.85em;margin:8px 0}\n"
  "th,td{padding:3px 8px;border-bottom:1px solid #ddd;text-align:left;"
  "vertical-align:top}\n"
  "th{background:#f2f4f7;position:sticky;top:0}\n"
  "td.n,th.n{text-align:right;font-variant-numeric:tabular-nums;"
  "white-space:nowrap}\n"
  "td.path{word-break:break-all}\n"
  "tr.flag td{background:#fff1e8}\n"
  ".esc{color:#b00;background:#fee;font-family:monospace}\n"
  ".cards{display:flex;flex-wrap:wrap;gap:10px}\n"
  ".card{border:1px solid #ddd;border-radius:6px;padding:8px 14px;"
  "min-width:120px}.card b{display:block;font-size:1.4em}\n"
  ".card.alert{border-color:#d55e00;background:#fff1e8}\n"
  ".swatch{display:inline-block;width:11px;height:11px;margin-right:5px;"
  "vertical-align:-1px}\n"
  ".warn{color:#8a4b00}\n"
  "figure{margin:8px 0}figcaption{font-size:.85em;color:#555}\n"
  "code,.mono{font-family:ui-monospace,monospace;font-size:.95em}\n"
  "footer{margin-top:40px;color:#777;font-size:.8em}\n";

static void
num (FILE *fp, uint64_t v)
{
  fprintf (fp, "<td class=\"n\">%" PRIu64 "</td>", v);
}

static void
cell_text (FILE *fp, const char *cls, const char *s)
{
  fprintf (fp, "<td%s%s%s>", cls ? " class=\"" : "", cls ? cls : "",
           cls ? "\"" : "");
  if (s)
    html_text (fp, s, true);
  else
    fputs ("-", fp);
  fputs ("</td>", fp);
}

static void
swatch (FILE *fp, char kind)
{
  fprintf (fp, "<span class=\"swatch\" style=\"background:%s\"></span>",
           kclass_colours[kind_class (kind)]);
}

static void
provenance (struct report *rep, FILE *fp)
{
  const struct trace_header *h = &rep->reader.header;
  unsigned d;

  fputs ("<section id=\"provenance\"><h2>Provenance</h2>\n"
         "<table id=\"provenance-table\">\n<tr><th>trace</th><td class=\"mono\">",
         fp);
  html_text (fp, rep->trace_path, true);
  fprintf (fp, "</td><td>%s, %" PRIu64 " bytes, %" PRIu64 " records</td>"
           "</tr>\n", rep->reader.format == TF_TSV ? "TSV" : "JSON Lines",
           rep->reader.bytes, rep->agg.records);
  fputs ("<tr><th>trace start</th><td>", fp);
  if (h->present) {
    html_text (fp, h->start ? h->start : "?", true);
    fputs ("</td><td>bmaplog ", fp);
    html_text (fp, h->tool_version ? h->tool_version : "?", true);
    fputs (", mode ", fp);
    html_text (fp, h->mode ? h->mode : "?", true);
  }
  else
    fputs ("unknown</td><td class=\"warn\">the trace has no header "
           "(bmaplog older than its reports)", fp);
  fputs ("</td></tr>\n<tr><th>map</th><td class=\"mono\">", fp);
  html_text (fp, rep->map_path, true);
  fputs ("</td><td>created ", fp);
  html_text (fp, *rep->map_created ? rep->map_created : "?", true);
  fputs (", virt-bmap ", fp);
  html_text (fp, *rep->map_tool_version ? rep->map_tool_version : "?", true);
  fputs ("</td></tr>\n", fp);
  for (d = 0; rep->images && d < rep->ndisks; ++d) {
    const struct rimage *im = &rep->images[d];

    fprintf (fp, "<tr><th>image %u (", d);
    html_text (fp, rep->disk_device[d], true);
    fputs (")</th><td class=\"mono\">", fp);
    html_text (fp, im->path ? im->path : "?", true);
    fputs ("</td><td>", fp);
    html_text (fp, im->format ? im->format : "?", true);
    fprintf (fp, ", %" PRIu64 " bytes", im->size);
    if (im->sha256[0])
      fprintf (fp, "<br>SHA-256 <code class=\"sha256\">%s</code>", im->sha256);
    if (im->note) {
      fputs ("<br><span class=\"warn\">", fp);
      html_text (fp, im->note, true);
      fputs ("</span>", fp);
    }
    fputs ("</td></tr>\n", fp);
  }
  fputs ("</table></section>\n", fp);
}

static void
card (FILE *fp, const char *label, const char *value, bool alert)
{
  fprintf (fp, "<div class=\"card%s\"><b>%s</b>%s</div>\n",
           alert ? " alert" : "", value, label);
}

static void
summary (struct report *rep, FILE *fp)
{
  const struct agg *a = &rep->agg;
  char buf[64];
  uint64_t files = 0;
  size_t i;

  for (i = 0; i < a->nobjs; ++i)
    if (a->objs[i].kind == VBM_KIND_FILE && a->objs[i].reads)
      files++;
  fputs ("<section id=\"summary\"><h2>Summary</h2><div class=\"cards\">\n",
         fp);
  fmt_seconds (buf, sizeof buf, a->any_time ? a->max_ns - a->min_ns : 0);
  strcat (buf, " s");
  card (fp, "traced", buf, false);
  snprintf (buf, sizeof buf, "%" PRIu64, a->requests[TRACE_OP_READ]);
  card (fp, "read requests", buf, false);
  fmt_bytes (buf, sizeof buf, a->op_bytes[TRACE_OP_READ]);
  card (fp, "read", buf, false);
  snprintf (buf, sizeof buf, "%" PRIu64, files);
  card (fp, "files read", buf, false);
  snprintf (buf, sizeof buf, "%zu", a->nflagged);
  card (fp, "flagged reads", buf, a->nflagged > 0);
  snprintf (buf, sizeof buf, "%" PRIu64, a->nwrites);
  card (fp, "writes, zeroes, trims", buf, false);
  fputs ("</div></section>\n", fp);
}

static void
tally_table (FILE *fp, const char *id, const char *col,
             const struct tally *t, size_t n, bool device, bool swatches)
{
  size_t i;

  fprintf (fp, "<table id=\"%s\"><thead><tr>", id);
  if (device)
    fputs ("<th>device</th>", fp);
  fprintf (fp, "<th>%s</th><th class=\"n\">objects</th><th class=\"n\">"
           "reads</th><th class=\"n\">bytes read</th><th class=\"n\">"
           "distinct bytes read</th><th class=\"n\">bytes written</th>"
           "</tr></thead><tbody>\n", col);
  for (i = 0; i < n; ++i) {
    fputs ("<tr>", fp);
    if (device)
      cell_text (fp, "mono", *t[i].device ? t[i].device : NULL);
    fputs ("<td class=\"path\">", fp);
    if (swatches)
      fprintf (fp, "<span class=\"swatch\" style=\"background:%s\"></span>",
               kclass_colours[i]);
    html_text (fp, t[i].name, true);
    fputs ("</td>", fp);
    num (fp, t[i].objects);
    num (fp, t[i].reads);
    num (fp, t[i].bytes_read);
    num (fp, t[i].distinct_read);
    num (fp, t[i].bytes_written);
    fputs ("</tr>\n", fp);
  }
  fputs ("</tbody></table>\n", fp);
}

static void
object_row (FILE *fp, const struct robj *o, size_t order, bool ranges)
{
  char t[32], words[128];
  uint64_t distinct;
  double c = robj_coverage (o, &distinct);
  uint32_t k;

  fmt_seconds (t, sizeof t, o->first_ns);
  fprintf (fp, "<tr%s>", o->flags ? " class=\"flag\"" : "");
  if (order)
    fprintf (fp, "<td class=\"n\">%zu</td>", order);
  fprintf (fp, "<td class=\"n\">%s</td><td>", t);
  swatch (fp, o->kind);
  fprintf (fp, "%c</td>", o->kind ? o->kind : '-');
  cell_text (fp, "mono", *o->device ? o->device : NULL);
  fputs ("<td class=\"path\">", fp);
  if (o->kind == 0)
    fprintf (fp, "&lt;unmapped: disk %u&gt;", o->disk);
  else
    html_text (fp, o->path ? o->path : "-", true);
  if (o->hash) {
    fputs ("<br><span class=\"mono\">", fp);
    html_text (fp, o->hash, false);
    fputs ("</span>", fp);
  }
  fputs ("</td>", fp);
  num (fp, o->reads);
  num (fp, o->bytes_read);
  num (fp, distinct);
  if (o->in_map)
    num (fp, o->size);
  else
    fputs ("<td class=\"n\">-</td>", fp);
  if (isnan (c))
    fputs ("<td class=\"n\">-</td>", fp);
  else
    fprintf (fp, "<td class=\"n\"%s>%s%.1f%%</td>",
             o->cov.approx ? " title=\"approximate: ranges merged\"" : "",
             o->cov.approx ? "~" : "", c);
  num (fp, o->writes);
  fprintf (fp, "<td>%s</td>", flag_words (o->flags, words, sizeof words));
  if (ranges) {
    fprintf (fp, "<td class=\"mono\">%s ", o->cov_disk ? "disk" : "object");
    for (k = 0; k < o->cov.len; ++k)
      fprintf (fp, "%s%" PRIu64 "-%" PRIu64, k ? ", " : "",
               o->cov.v[k].start, o->cov.v[k].end);
    fputs ("</td>", fp);
  }
  fputs ("</tr>\n", fp);
}

static void
object_head (FILE *fp, const char *id, bool order, bool ranges)
{
  fprintf (fp, "<table id=\"%s\"><thead><tr>%s<th class=\"n\">first "
           "access (s)</th><th>kind</th><th>device</th><th>path</th>"
           "<th class=\"n\">reads</th><th class=\"n\">bytes read</th>"
           "<th class=\"n\">distinct</th><th class=\"n\">size</th>"
           "<th class=\"n\">coverage</th><th class=\"n\">writes</th>"
           "<th>flags</th>%s</tr></thead><tbody>\n", id,
           order ? "<th class=\"n\">#</th>" : "",
           ranges ? "<th>ranges read</th>" : "");
}

struct hwrites {
  struct report *rep;
  FILE *fp;
};

static int
write_row (void *opaque, const struct wrec *w)
{
  struct hwrites *c = opaque;
  const struct robj *o = &c->rep->agg.objs[w->obj];
  char t[32];

  fmt_seconds (t, sizeof t, w->t_ns);
  fprintf (c->fp, "<tr><td class=\"n\">%s</td><td>%s</td><td class=\"n\">%"
           PRIu64 "</td><td>", t, trace_op_names[w->op], w->conn);
  swatch (c->fp, o->kind);
  fprintf (c->fp, "%c</td>", o->kind ? o->kind : '-');
  cell_text (c->fp, "mono", *o->device ? o->device : NULL);
  fputs ("<td class=\"path\">", c->fp);
  if (o->kind == 0)
    fprintf (c->fp, "&lt;unmapped: disk %u&gt;", o->disk);
  else
    html_text (c->fp, o->path ? o->path : "-", true);
  fputs ("</td>", c->fp);
  num (c->fp, w->offset);
  num (c->fp, w->length);
  if (w->object_offset >= 0)
    num (c->fp, w->object_offset);
  else
    fputs ("<td class=\"n\">-</td>", c->fp);
  fprintf (c->fp, "<td>%s</td></tr>\n", w->error ? strerror (w->error) : "");
  return 0;
}

int
report_html (struct report *rep, FILE *fp)
{
  struct agg *a = &rep->agg;
  struct hwrites wc = { .rep = rep, .fp = fp };
  size_t i;

  fputs ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n"
         "<meta name=\"generator\" content=\"bmaplog report " PACKAGE_VERSION
         "\">\n<title>bmaplog report: ", fp);
  html_text (fp, rep->trace_path, false);
  fprintf (fp, "</title>\n<style>\n%s</style></head>\n<body>\n", style);
  fputs ("<header><h1>Boot trace report</h1><p class=\"sub\">", fp);
  html_text (fp, rep->trace_path, true);
  fputs (" &middot; which objects of the disk image the guest read and "
         "wrote, in order</p>\n<nav><a href=\"#provenance\">provenance</a>"
         "<a href=\"#summary\">summary</a><a href=\"#timeline-section\">"
         "timeline</a><a href=\"#directories\">directories</a>"
         "<a href=\"#flagged\">flagged reads</a><a href=\"#totals\">totals"
         "</a><a href=\"#objects\">objects</a><a href=\"#writes\">writes</a>"
         "</nav></header>\n", fp);

  provenance (rep, fp);
  summary (rep, fp);

  fputs ("<section id=\"timeline-section\"><h2>Timeline</h2><figure>\n", fp);
  svg_timeline (rep, fp);
  fputs ("<figcaption>Each mark is a disk area read (by kind) or written "
         "(black) at that time; shaded bands are partitions.  The picture "
         "is downsampled to a fixed grid: a mark may stand for many "
         "requests.</figcaption></figure></section>\n", fp);

  fputs ("<section id=\"directories\"><h2>Bytes read per top-level "
         "directory</h2>\n", fp);
  if (a->ntopdirs)
    svg_bars (fp, "bars", "Bytes read per top-level directory",
              "bytes read (files and directories below it)", a->topdirs,
              a->ntopdirs, 15);
  else
    fputs ("<p>No file or directory was read.</p>\n", fp);
  fputs ("</section>\n", fp);

  fprintf (fp, "<section id=\"flagged\"><h2>Flagged reads (%zu)</h2>\n"
           "<p>Reads of free space, unpartitioned gaps, areas beyond the "
           "map, deleted or unreachable files, and areas no filesystem "
           "object explains: where hidden data and boot-time malware "
           "live.</p>\n", a->nflagged);
  object_head (fp, "flagged-table", false, true);
  for (i = 0; i < a->nflagged; ++i)
    object_row (fp, &a->objs[a->flagged[i]], 0, true);
  fputs ("</tbody></table></section>\n", fp);

  fputs ("<section id=\"totals\"><h2>Totals per kind</h2>\n", fp);
  tally_table (fp, "by-kind", "kind", a->kinds, NR_KCLASS, false, true);
  fputs ("<h2>Totals per partition</h2>\n", fp);
  tally_table (fp, "by-partition", "device", a->parts, a->nparts, false,
               false);
  fputs ("<h2>Totals per directory</h2><p>Files and directories directly "
         "inside each directory, by bytes read.</p>\n", fp);
  tally_table (fp, "by-directory", "directory", a->dirs, a->ndirs, true,
               false);
  fputs ("</section>\n", fp);

  fprintf (fp, "<section id=\"objects\"><h2>Objects in first-access order "
           "(%zu)</h2><p>Coverage is the share of the object's bytes read "
           "at least once (free space: of its disk extents); ~ marks an "
           "approximation (more than %d separate ranges).</p>\n",
           a->nobjs, IVSET_MAX);
  object_head (fp, "objects-table", true, false);
  for (i = 0; i < a->nobjs; ++i)
    object_row (fp, &a->objs[a->order[i]], i + 1, false);
  fputs ("</tbody></table></section>\n", fp);

  fprintf (fp, "<section id=\"writes\"><h2>Writes, zeroes and trims (%"
           PRIu64 ")</h2>\n<table id=\"writes-table\"><thead><tr><th "
           "class=\"n\">time (s)</th><th>op</th><th class=\"n\">conn</th>"
           "<th>kind</th><th>device</th><th>path</th><th class=\"n\">disk "
           "offset</th><th class=\"n\">length</th><th class=\"n\">object "
           "offset</th><th>error</th></tr></thead><tbody>\n", a->nwrites);
  if (agg_foreach_write (a, write_row, &wc) == -1)
    return -1;
  fputs ("</tbody></table></section>\n", fp);

  if (rep->nwarnings) {
    fputs ("<section id=\"warnings\"><h2>Warnings</h2><ul>\n", fp);
    for (i = 0; i < rep->nwarnings; ++i) {
      fputs ("<li class=\"warn\">", fp);
      html_text (fp, rep->warnings[i], true);
      fputs ("</li>\n", fp);
    }
    fputs ("</ul></section>\n", fp);
  }
  fputs ("<footer>Made by bmaplog report " PACKAGE_VERSION " (virt-bmap). "
         "Self-contained: no scripts, fonts or images are loaded.</footer>\n"
         "</body></html>\n", fp);
  return ferror (fp) ? -1 : 0;
}
