/* Reads of the volume and the checks of the numbers that lead to
 * them: fork extents, inode numbers, CRCs.
 */
#include <config.h>

#include <inttypes.h>

#include "xfs-map.h"

int
xfs_pread (struct xfs_map *m, void *buf, size_t len, uint64_t off)
{
  if (off > m->vol->length || len > m->vol->length - off)
    return 1;
  return vbm_volume_pread (m->ctx, m->vol, buf, len, off) == -1 ? -1 : 0;
}

int
xfs_read_units (struct xfs_map *m, void *buf, uint64_t u, uint64_t n)
{
  if (u >= m->sb.dblocks || n > m->sb.dblocks - u || n > SIZE_MAX / m->bs)
    return 1;
  return xfs_pread (m, buf, n * m->bs, u * m->bs);
}

bool
xfs_fsb_unit (const struct xfs_map *m, uint64_t fsb, uint64_t n,
              uint64_t *unit)
{
  uint64_t agno = fsb >> m->sb.agblklog;
  uint64_t agbno = fsb & ((UINT64_C (1) << m->sb.agblklog) - 1);
  uint64_t aglen;

  if (agno >= m->sb.agcount)
    return false;
  aglen = xfs_ag_blocks (m, agno);
  if (agbno >= aglen || n > aglen - agbno)
    return false;
  *unit = agno * m->sb.agblocks + agbno;
  return true;
}

bool
xfs_ino_place (const struct xfs_map *m, uint64_t ino, uint32_t *agno,
               uint32_t *agino)
{
  const unsigned bits = m->sb.agblklog + m->sb.inopblog;
  uint64_t a = ino >> bits;
  uint64_t i = ino & ((UINT64_C (1) << bits) - 1);

  if (a >= m->sb.agcount || (i >> m->sb.inopblog) >= xfs_ag_blocks (m, a))
    return false;
  *agno = a;
  *agino = i;
  return true;
}

bool
xfs_check_crc (struct xfs_map *m, const unsigned char *buf, size_t len,
               size_t crc_off, const char *what, uint64_t where)
{
  if (!m->sb.crc || xfs_crc_ok (buf, len, crc_off))
    return true;
  if (m->bad_crc++ < 10)
    xfs_warn (m, "XFS %s %" PRIu64 ": bad CRC (used as it is)", what, where);
  return false;
}
