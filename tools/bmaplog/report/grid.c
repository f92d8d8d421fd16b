/* The timeline's data: a fixed grid of time columns x disk-offset rows,
 * each cell a bitmask of the kinds read there (and a bit for writes).
 * When the trace runs past the last column, columns are merged in
 * pairs and each then spans twice the time, so a million records cost
 * the same memory as ten, and the SVG a bounded number of shapes.
 */
#include <config.h>

#include <stdlib.h>
#include <string.h>

#include "report.h"

#define FIRST_NS_PER_COL 1000000 /* 1 ms */

int
grid_init (struct grid *g, unsigned ndisks, const uint64_t *disk_size)
{
  unsigned d;

  memset (g, 0, sizeof *g);
  if (ndisks == 0)
    return 0;
  g->cell = calloc ((size_t) GRID_COLS * GRID_ROWS, 1);
  g->disk_size = calloc (ndisks, sizeof *g->disk_size);
  g->bytes_per_row = calloc (ndisks, sizeof *g->bytes_per_row);
  if (g->cell == NULL || g->disk_size == NULL || g->bytes_per_row == NULL)
    return -1;
  g->ndisks = ndisks;
  g->ns_per_col = FIRST_NS_PER_COL;
  /* Equal bands per disk; past GRID_ROWS disks, the rest are not drawn. */
  g->rows_per_disk = ndisks < GRID_ROWS ? GRID_ROWS / ndisks : 1;
  for (d = 0; d < ndisks; ++d) {
    g->disk_size[d] = disk_size[d];
    g->bytes_per_row[d] = disk_size[d] / g->rows_per_disk +
      (disk_size[d] % g->rows_per_disk != 0);
    if (g->bytes_per_row[d] == 0)
      g->bytes_per_row[d] = 1;
  }
  return 0;
}

static void
coarsen (struct grid *g)
{
  unsigned c, r;

  for (c = 0; c < GRID_COLS / 2; ++c)
    for (r = 0; r < GRID_ROWS; ++r)
      g->cell[c * GRID_ROWS + r] = g->cell[2 * c * GRID_ROWS + r] |
        g->cell[(2 * c + 1) * GRID_ROWS + r];
  memset (&g->cell[(GRID_COLS / 2) * GRID_ROWS], 0,
          (size_t) (GRID_COLS - GRID_COLS / 2) * GRID_ROWS);
  g->ns_per_col *= 2;
}

void
grid_add (struct grid *g, uint64_t t_ns, unsigned disk, uint64_t offset,
          uint64_t length, unsigned bit)
{
  uint64_t col, r0, r1, r, base;

  if (g->cell == NULL || disk >= g->ndisks ||
      (uint64_t) (disk + 1) * g->rows_per_disk > GRID_ROWS)
    return;
  while ((col = t_ns / g->ns_per_col) >= GRID_COLS &&
         g->ns_per_col <= UINT64_MAX / 2)
    coarsen (g);
  if (col >= GRID_COLS)
    col = GRID_COLS - 1;
  r0 = offset / g->bytes_per_row[disk];
  r1 = (offset + (length ? length - 1 : 0)) / g->bytes_per_row[disk];
  if (r0 >= g->rows_per_disk)
    r0 = g->rows_per_disk - 1;
  if (r1 >= g->rows_per_disk)
    r1 = g->rows_per_disk - 1;
  base = (uint64_t) disk * g->rows_per_disk;
  for (r = r0; r <= r1; ++r)
    g->cell[col * GRID_ROWS + base + r] |= 1u << bit;
  if (!g->any || t_ns > g->max_ns)
    g->max_ns = t_ns;
  g->any = true;
}

void
grid_free (struct grid *g)
{
  free (g->cell);
  free (g->disk_size);
  free (g->bytes_per_row);
  memset (g, 0, sizeof *g);
}
