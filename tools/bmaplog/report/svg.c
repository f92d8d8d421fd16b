/* Inline SVG pictures: the timeline (time against disk offset, one
 * colour per kind, partitions as bands) and bar charts.  Drawn from
 * the bounded grid, so the size of the picture does not depend on the
 * size of the trace.
 */
#include <config.h>

#include <inttypes.h>
#include <math.h>
#include <string.h>

#include "report.h"

/* Okabe-Ito colours: told apart with the usual colour blindness. */
const char *const kclass_colours[NR_KCLASS + 1] = {
  [KC_FILE] = "#0072b2", [KC_DIR] = "#009e73", [KC_META] = "#e69f00",
  [KC_FREE] = "#d55e00", [KC_UNMAPPED] = "#cc79a7", [KC_VOLUME] = "#999999",
  [GRID_WRITE] = "#000000",
};

/* Drawn bottom to top: the rarer and more telling kinds last. */
static const unsigned draw_order[] = {
  KC_VOLUME, KC_META, KC_DIR, KC_FILE, KC_FREE, KC_UNMAPPED, GRID_WRITE,
};

#define TW 960.0                /* timeline width, height */
#define TH 440.0
#define PX 120.0                /* plot area */
#define PY 20.0
#define PW 810.0
#define PH 310.0
#define MIN_MARK 2.5            /* smallest mark drawn, in pixels */

/* Tick label for a byte offset: exact when it is a whole unit. */
static void
tick_bytes (char *buf, size_t len, uint64_t v)
{
  static const char *const units[] = { "B", "KiB", "MiB", "GiB", "TiB", "PiB" };
  int u = 0;

  while (u < 5 && v >= 1024 && v % 1024 == 0) {
    v /= 1024;
    u++;
  }
  if (v >= 1024 * 10)
    fmt_bytes (buf, len, v << (10 * u));
  else
    snprintf (buf, len, "%" PRIu64 " %s", v, units[u]);
}

/* A power of two giving 3 to 8 ticks over size. */
static uint64_t
byte_step (uint64_t size)
{
  uint64_t step = 1;

  while (step < UINT64_MAX / 2 && size / step > 8)
    step *= 2;
  return step;
}

/* 1, 2 or 5 times a power of ten giving about n ticks over span. */
static double
nice_step (double span, int n)
{
  double raw = span / n, p, f;

  if (!(raw > 0))
    return 1;
  p = pow (10, floor (log10 (raw)));
  f = raw / p;
  return (f < 1.5 ? 1 : f < 3.5 ? 2 : f < 7.5 ? 5 : 10) * p;
}

static void
legend (FILE *fp, double x, double y, const char *id)
{
  size_t i;

  fprintf (fp, "<g id=\"%s\" class=\"legend\" font-size=\"12\">\n", id);
  for (i = 0; i < sizeof draw_order / sizeof draw_order[0]; ++i) {
    unsigned k = draw_order[sizeof draw_order / sizeof draw_order[0] - 1 - i];
    const char *label = k == GRID_WRITE ? "write" : kclass_names[k];

    fprintf (fp, "<rect x=\"%.1f\" y=\"%.1f\" width=\"12\" height=\"12\" "
             "fill=\"%s\"/><text x=\"%.1f\" y=\"%.1f\">%s</text>\n",
             x, y - 10, kclass_colours[k], x + 17, y, label);
    x += 30 + 7.0 * strlen (label);
  }
  fputs ("</g>\n", fp);
}

/* Where each column is drawn.  Long idle stretches (a kernel booting
 * from RAM, a firmware delay) would squeeze the I/O into a sliver, so
 * runs of empty columns collapse into a narrow marked gap.
 */
struct layout {
  unsigned used;
  double x[GRID_COLS + 1];      /* left edge of each column */
  bool gap[GRID_COLS];          /* column inside a collapsed gap */
  double cw;                    /* width of a kept column */
  unsigned kept;
};

#define GAP_W 26.0

static void
layout_columns (const struct grid *g, struct layout *L)
{
  bool active[GRID_COLS];
  unsigned c, r, run, ngaps = 0, minrun;
  double x = PX;

  memset (L->gap, 0, sizeof L->gap);
  for (c = 0; c < L->used; ++c) {
    active[c] = false;
    for (r = 0; r < GRID_ROWS && !active[c]; ++r)
      active[c] = g->cell[c * GRID_ROWS + r] != 0;
  }
  minrun = L->used / 12 > 6 ? L->used / 12 : 6;
  L->kept = L->used;
  for (c = 0; c < L->used; c += run ? run : 1) {
    for (run = 0; c + run < L->used && !active[c + run]; ++run)
      ;
    for (r = 0; r < run; ++r)
      L->gap[c + r] = run >= minrun;
    if (run >= minrun) {
      ngaps++;
      L->kept -= run;
    }
  }
  if (L->kept == 0) {           /* nothing happened: no gaps */
    memset (L->gap, 0, sizeof L->gap);
    L->kept = L->used;
    ngaps = 0;
  }
  L->cw = (PW - ngaps * GAP_W) / L->kept;
  for (c = 0; c < L->used; ++c) {
    L->x[c] = x;
    if (!L->gap[c])
      x += L->cw;
    else if (c + 1 == L->used || !L->gap[c + 1])
      x += GAP_W;               /* the gap's last column ends it */
  }
  L->x[L->used] = x;
}

static void
time_axis (FILE *fp, const struct grid *g, const struct layout *L)
{
  double step, t, t0, t1, x, last_x = -100, gx;
  unsigned c, c0;
  char label[64];

  step = nice_step (L->kept * (double) g->ns_per_col / 1e9, 8);
  for (c = 0; c < L->used; ) {
    c0 = c;
    if (L->gap[c]) {
      while (c < L->used && L->gap[c])
        c++;
      /* The gap: shaded, with how long nothing happened. */
      gx = L->x[c0];
      fprintf (fp, "<rect class=\"idle\" x=\"%.1f\" y=\"%.1f\" "
               "width=\"%.1f\" height=\"%.1f\" fill=\"#e4e4e4\"/>"
               "<path d=\"M%.1f %.1fl6 -8M%.1f %.1fl6 -8\" stroke=\"#333\"/>\n",
               gx + 3, PY, GAP_W - 6, PH, gx + 7, PY + PH + 4,
               gx + 13, PY + PH + 4);
      fmt_seconds (label, sizeof label, (uint64_t) (c - c0) * g->ns_per_col);
      fprintf (fp, "<text transform=\"translate(%.1f %.1f) rotate(-90)\" "
               "text-anchor=\"middle\" fill=\"#555\">idle %.3g s</text>\n",
               gx + GAP_W / 2 + 4, PY + PH / 2,
               (double) (c - c0) * g->ns_per_col / 1e9);
      continue;
    }
    while (c < L->used && !L->gap[c])
      c++;
    /* Ticks at multiples of step within this stretch of time. */
    t0 = (double) c0 * g->ns_per_col / 1e9;
    t1 = (double) c * g->ns_per_col / 1e9;
    for (t = ceil (t0 / step - 1e-9) * step + 0.0; t <= t1 * (1 + 1e-12);
         t += step) {
      x = L->x[c0] + (t - t0) * 1e9 / g->ns_per_col * L->cw;
      fprintf (fp, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" "
               "stroke=\"#888\"/>", x, PY + PH, x, PY + PH + 5);
      if (x - last_x >= 34) {
        fprintf (fp, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">"
                 "%.6g</text>", x, PY + PH + 18, t);
        last_x = x;
      }
      fputc ('\n', fp);
    }
  }
  fprintf (fp, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\" "
           "font-size=\"13\">time since bmaplog started serving (s)%s</text>\n",
           PX + PW / 2, PY + PH + 38,
           L->kept < L->used ? "; grey: idle time, not to scale" : "");
}

static void
offset_axis (FILE *fp, struct report *rep, unsigned ndrawn, double band)
{
  const struct grid *g = &rep->grid;
  uint64_t bstep, off, size;
  double y, top;
  char label[64];
  unsigned d;

  for (d = 0; d < ndrawn; ++d) {
    top = PY + band * d;
    size = g->disk_size[d] ? g->disk_size[d] : 1;
    if (d)
      fprintf (fp, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" "
               "stroke=\"#333\"/>\n", PX - 40, top, PX + PW, top);
    bstep = band < 60 ? size : byte_step (size);
    for (off = 0; off <= size; off += bstep) {
      y = top + band - band * ((double) off / size);
      tick_bytes (label, sizeof label, off);
      fprintf (fp, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" "
               "stroke=\"#888\"/><text x=\"%.1f\" y=\"%.1f\" "
               "text-anchor=\"end\">%s</text>\n",
               PX - 5, y, PX, y, PX - 8, y + 4, label);
      if (off > UINT64_MAX - bstep)
        break;
    }
    if (ndrawn > 1) {
      fprintf (fp, "<text x=\"%.1f\" y=\"%.1f\" font-weight=\"bold\">",
               PX + 4, top + 13);
      html_text (fp, rep->disk_device[d], false);
      fputs ("</text>\n", fp);
    }
  }
  fprintf (fp, "<text transform=\"translate(%.1f %.1f) rotate(-90)\" "
           "text-anchor=\"middle\" font-size=\"13\">disk offset</text>\n",
           18.0, PY + PH / 2);
}

void
svg_timeline (struct report *rep, FILE *fp)
{
  const struct grid *g = &rep->grid;
  unsigned ndrawn = g->ndisks < GRID_ROWS ? g->ndisks : GRID_ROWS;
  unsigned rows, d, c, r, r0;
  double rh, band, x, y, w, h, cw;
  struct layout L;
  size_t i, k;

  fprintf (fp, "<svg id=\"timeline\" "
           "viewBox=\"0 0 %.0f %.0f\" width=\"%.0f\" height=\"%.0f\" "
           "role=\"img\" aria-labelledby=\"timeline-title\" "
           "font-family=\"sans-serif\">\n"
           "<title id=\"timeline-title\">Disk offset read or written "
           "against time, coloured by kind</title>\n",
           TW, TH, TW, TH);
  fprintf (fp, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" "
           "fill=\"#fcfcfc\" stroke=\"#888\"/>\n", PX, PY, PW, PH);
  if (ndrawn == 0 || g->cell == NULL) {
    fputs ("</svg>\n", fp);
    return;
  }
  L.used = g->any ? g->max_ns / g->ns_per_col + 1 : 1;
  if (L.used > GRID_COLS)
    L.used = GRID_COLS;
  layout_columns (g, &L);
  rows = g->rows_per_disk * ndrawn;
  rh = PH / rows;
  band = PH / ndrawn;

  /* Partitions: shaded bands, labelled. */
  fputs ("<g id=\"timeline-partitions\" font-size=\"11\" fill=\"#555\">\n",
         fp);
  for (i = 0; i < rep->nparts; ++i) {
    const struct partition *p = &rep->parts[i];
    double y0, y1;

    if (p->disk >= ndrawn || g->disk_size[p->disk] == 0)
      continue;
    y1 = PY + band * (p->disk + 1) -
      band * ((double) p->start / g->disk_size[p->disk]);
    y0 = PY + band * (p->disk + 1) -
      band * ((double) p->end / g->disk_size[p->disk]);
    fprintf (fp, "<rect class=\"partition\" x=\"%.1f\" y=\"%.1f\" "
             "width=\"%.1f\" height=\"%.1f\" fill=\"%s\" stroke=\"#bbb\"/>\n",
             PX, y0, PW, y1 - y0, i % 2 ? "#eef3f8" : "#f3f8ee");
    if (y1 - y0 >= 12) {
      fprintf (fp, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\">",
               PX + PW - 4, y0 + 12);
      html_text (fp, p->device, false);
      fputs ("</text>\n", fp);
    }
  }
  fputs ("</g>\n<g id=\"timeline-axes\" font-size=\"11\" fill=\"#333\">\n",
         fp);
  time_axis (fp, g, &L);
  offset_axis (fp, rep, ndrawn, band);
  fputs ("</g>\n", fp);

  /* The cells: one path per kind, one subpath per run of rows. */
  cw = L.cw;
  for (k = 0; k < sizeof draw_order / sizeof draw_order[0]; ++k) {
    unsigned bit = 1u << draw_order[k];
    bool open = false;

    for (c = 0; c < L.used; ++c)
      for (r = 0; r < rows; ) {
        if (L.gap[c] || !(g->cell[c * GRID_ROWS + r] & bit)) {
          r++;
          continue;
        }
        for (r0 = r; r < rows && (g->cell[c * GRID_ROWS + r] & bit) &&
               r / g->rows_per_disk == r0 / g->rows_per_disk; ++r)
          ;
        /* Rows go up within a disk's band. */
        d = r0 / g->rows_per_disk;
        w = cw > MIN_MARK ? cw : MIN_MARK;
        h = (r - r0) * rh;
        h = h > MIN_MARK ? h : MIN_MARK;
        x = L.x[c] + (cw - w) / 2;
        y = PY + band * (d + 1) - (r - d * g->rows_per_disk) * rh;
        y += ((r - r0) * rh - h) / 2;
        if (!open) {
          fprintf (fp, "<path class=\"cells\" data-kind=\"%s\" fill=\"%s\" "
                   "d=\"", draw_order[k] == GRID_WRITE ? "write"
                   : kclass_names[draw_order[k]], kclass_colours[draw_order[k]]);
          open = true;
        }
        fprintf (fp, "M%.1f %.1fh%.1fv%.1fh%.1fz", x, y, w, h, -w);
      }
    if (open)
      fputs ("\"/>\n", fp);
  }
  legend (fp, PX, TH - 20, "timeline-legend");
  fputs ("</svg>\n", fp);
}

/* Cuts a label to at most max bytes on a UTF-8 character boundary. */
static size_t
cut_utf8 (const char *s, size_t max)
{
  size_t n = strlen (s);

  if (n <= max)
    return n;
  while (max > 0 && ((unsigned char) s[max] & 0xc0) == 0x80)
    max--;
  return max;
}

void
svg_bars (FILE *fp, const char *id, const char *title, const char *axis,
          const struct tally *t, size_t n, size_t max_bars)
{
  const double lw = 300, bh = 22, top = 10, width = 960, pw = 560;
  size_t i, bars = n < max_bars ? n : max_bars;
  double height = top + bars * bh + 60, step, v, x, vmax = 0;
  char label[300], num[32];
  static const char *const units[] = { "B", "KiB", "MiB", "GiB", "TiB" };
  double unit;
  size_t cut, full;
  int u;

  for (i = 0; i < bars; ++i)
    if (t[i].bytes_read > vmax)
      vmax = t[i].bytes_read;
  if (vmax == 0)
    vmax = 1;
  fprintf (fp, "<svg id=\"%s\" class=\"bars\" "
           "viewBox=\"0 0 %.0f %.0f\" width=\"%.0f\" height=\"%.0f\" "
           "role=\"img\" font-family=\"sans-serif\" font-size=\"12\">\n"
           "<title>%s</title>\n", id, width, height, width, height, title);
  for (i = 0; i < bars; ++i) {
    double y = top + i * bh, w = pw * (t[i].bytes_read / vmax);

    snprintf (label, sizeof label, "%s%s%s", *t[i].device ? t[i].device : "",
              *t[i].device ? " " : "", t[i].name);
    full = strlen (label);
    cut = cut_utf8 (label, 44);
    label[cut] = '\0';
    fprintf (fp, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\">",
             lw - 8, y + 15);
    html_text (fp, label, false);
    /* An ellipsis where the label was cut. */
    fprintf (fp, "%s</text>\n", cut < full ? "\xe2\x80\xa6" : "");
    fmt_bytes (num, sizeof num, t[i].bytes_read);
    fprintf (fp, "<rect class=\"bar\" x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" "
             "height=\"%.1f\" fill=\"%s\"><title>%" PRIu64 " bytes</title>"
             "</rect><text x=\"%.1f\" y=\"%.1f\">%s</text>\n",
             lw, y + 3, w > 1 ? w : 1, bh - 6, kclass_colours[KC_FILE],
             t[i].bytes_read, lw + (w > 1 ? w : 1) + 5, y + 15, num);
  }
  /* The value axis, in the largest binary unit that fits. */
  for (unit = 1, u = 0; u < 4 && vmax >= unit * 1024; ++u)
    unit *= 1024;
  step = nice_step (vmax / unit, 5) * unit;
  for (v = 0; v <= vmax * (1 + 1e-9); v += step) {
    x = lw + pw * (v / vmax);
    snprintf (num, sizeof num, "%g %s", v / unit, units[u]);
    fprintf (fp, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" "
             "stroke=\"#ccc\"/><text x=\"%.1f\" y=\"%.1f\" "
             "text-anchor=\"middle\" fill=\"#333\">%s</text>\n",
             x, top, x, top + bars * bh + 4, x, top + bars * bh + 18, num);
  }
  fprintf (fp, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\" "
           "font-size=\"13\">%s</text>\n</svg>\n",
           lw + pw / 2, top + bars * bh + 42, axis);
}
