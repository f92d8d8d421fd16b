/* The XFS superblock: parsed and checked like xfs_repair's
 * verify_sb, so that every later computation (AG sizes, inode
 * numbers, fork areas) stays in range on hostile input.
 */
#include <config.h>

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "checksum-ok.h"
#include "crc32c.h"
#include "xfs-map.h"

#define XFS_SB_VERSION_NUMBITS  0x000f
#define XFS_SB_VERSION_DIRV2BIT 0x2000
#define XFS_SB_VERSION_MOREBITS 0x8000
#define XFS_SB_VERSION2_FTYPE   0x0200
#define XFS_SB_VERSION2_CRCBIT  0x0100

bool
xfs_sb_magic (const unsigned char *buf, size_t len)
{
  unsigned v;

  if (len < 512 || xfs_be32 (buf) != XFS_SB_MAGIC)
    return false;
  v = xfs_be16 (buf + 100) & XFS_SB_VERSION_NUMBITS;
  return v == 4 || v == 5;
}

bool
xfs_crc_ok (const unsigned char *buf, size_t len, size_t crc_off)
{
  static const unsigned char zero[4];
  uint32_t c;

  if (crc_off + 4 > len)
    return false;
  c = vbm_crc32c (0, buf, crc_off);
  c = vbm_crc32c (c, zero, 4);
  c = vbm_crc32c (c, buf + crc_off + 4, len - crc_off - 4);
  /* Stored little-endian, unlike everything else. */
  return vbm_checksum_ok (c, (uint32_t) buf[crc_off] |
                         (uint32_t) buf[crc_off + 1] << 8 |
                         (uint32_t) buf[crc_off + 2] << 16 |
                         (uint32_t) buf[crc_off + 3] << 24);
}

static bool
is_log2 (uint64_t v, unsigned log)
{
  return log < 64 && v == (UINT64_C (1) << log);
}

/* The log2 of v rounded up. */
static unsigned
log2_up (uint64_t v)
{
  unsigned l = 0;

  while (l < 63 && (UINT64_C (1) << l) < v)
    l++;
  return l;
}

#define BAD(...) do { snprintf (why, whylen, __VA_ARGS__); return false; } \
  while (0)

bool
xfs_parse_sb (const unsigned char *b, size_t len, struct xfs_sb *sb,
              char *why, size_t whylen)
{
  uint16_t vnum;
  uint64_t ag_total;

  memset (sb, 0, sizeof *sb);
  if (len < 512 || xfs_be32 (b) != XFS_SB_MAGIC)
    BAD ("no XFS superblock magic");
  vnum = xfs_be16 (b + 100);
  sb->version = vnum & XFS_SB_VERSION_NUMBITS;
  if (sb->version != 4 && sb->version != 5)
    BAD ("superblock version %u (only 4 and 5 are known)", sb->version);
  sb->blocksize = xfs_be32 (b + 4);
  sb->dblocks = xfs_be64 (b + 8);
  sb->rblocks = xfs_be64 (b + 16);
  sb->logstart = xfs_be64 (b + 48);
  sb->rootino = xfs_be64 (b + 56);
  sb->rbmino = xfs_be64 (b + 64);
  sb->rsumino = xfs_be64 (b + 72);
  sb->agblocks = xfs_be32 (b + 84);
  sb->agcount = xfs_be32 (b + 88);
  sb->logblocks = xfs_be32 (b + 96);
  sb->sectsize = xfs_be16 (b + 102);
  sb->inodesize = xfs_be16 (b + 104);
  sb->inopblock = xfs_be16 (b + 106);
  sb->blocklog = b[120];
  sb->sectlog = b[121];
  sb->inodelog = b[122];
  sb->inopblog = b[123];
  sb->agblklog = b[124];
  sb->icount = xfs_be64 (b + 128);
  sb->uquotino = xfs_be64 (b + 160);
  sb->gquotino = xfs_be64 (b + 168);
  sb->dirblklog = b[192];
  if (vnum & XFS_SB_VERSION_MOREBITS)
    sb->features2 = xfs_be32 (b + 200);
  if (sb->version == 5) {
    sb->ro_compat = xfs_be32 (b + 212);
    sb->incompat = xfs_be32 (b + 216);
    sb->log_incompat = xfs_be32 (b + 220);
    sb->pquotino = xfs_be64 (b + 232);
    sb->crc = true;
    sb->ftype = sb->incompat & XFS_IN_FTYPE;
    sb->sparse = sb->incompat & XFS_IN_SPINODES;
    sb->nrext64 = sb->incompat & XFS_IN_NREXT64;
    sb->finobt = sb->ro_compat & XFS_RO_FINOBT;
    sb->rmapbt = sb->ro_compat & XFS_RO_RMAPBT;
    sb->reflink = sb->ro_compat & XFS_RO_REFLINK;
  }
  else {
    if (!(vnum & XFS_SB_VERSION_DIRV2BIT))
      BAD ("version 1 directories (only version 2 is read)");
    sb->ftype = sb->features2 & XFS_SB_VERSION2_FTYPE;
  }

  /* Sizes: powers of two, matching their logs, in XFS's limits. */
  if (sb->blocksize < 512 || sb->blocksize > 65536 ||
      !is_log2 (sb->blocksize, sb->blocklog))
    BAD ("block size %" PRIu32 " (log %u)", sb->blocksize, sb->blocklog);
  if (sb->sectsize < 512 || sb->sectsize > 32768 ||
      !is_log2 (sb->sectsize, sb->sectlog) || sb->sectsize > sb->blocksize)
    BAD ("sector size %u (log %u)", sb->sectsize, sb->sectlog);
  if (sb->sectsize > len)
    BAD ("sector size %u bigger than what was read", sb->sectsize);
  if (sb->inodesize < 256 || sb->inodesize > 2048 ||
      !is_log2 (sb->inodesize, sb->inodelog) ||
      sb->inodesize > sb->blocksize || (sb->crc && sb->inodesize < 512))
    BAD ("inode size %u (log %u)", sb->inodesize, sb->inodelog);
  if (sb->inopblock != sb->blocksize / sb->inodesize ||
      sb->inopblog != sb->blocklog - sb->inodelog)
    BAD ("%u inodes per block (log %u)", sb->inopblock, sb->inopblog);
  if (sb->blocklog + sb->dirblklog > 16)
    BAD ("directory block log %u", sb->dirblklog);
  sb->dirblksize = sb->blocksize << sb->dirblklog;

  /* Geometry: AGs of agblocks blocks (the last one maybe shorter). */
  if (sb->agcount == 0 || sb->agblocks < 16 || sb->agblocks > INT32_MAX)
    BAD ("%" PRIu32 " AGs of %" PRIu32 " blocks", sb->agcount, sb->agblocks);
  if (sb->agblklog != log2_up (sb->agblocks))
    BAD ("AG block log %u for %" PRIu32 " blocks", sb->agblklog,
         sb->agblocks);
  /* Inode numbers are 64 bits: (agno, agbno, index in block). */
  if (sb->agblklog + sb->inopblog + 32 > 64)
    BAD ("inode numbers do not fit in 64 bits");
  ag_total = (uint64_t) sb->agcount * sb->agblocks;
  if (sb->dblocks == 0 || sb->dblocks > ag_total ||
      sb->dblocks <= ag_total - sb->agblocks)
    BAD ("%" PRIu64 " blocks for %" PRIu32 " AGs of %" PRIu32,
         sb->dblocks, sb->agcount, sb->agblocks);

  /* The log, inside the data device if internal. */
  if (sb->logstart != 0) {
    uint64_t agno = sb->logstart >> sb->agblklog;
    uint64_t agbno = sb->logstart & ((UINT64_C (1) << sb->agblklog) - 1);

    if (sb->logblocks == 0 || agno >= sb->agcount ||
        agbno + sb->logblocks > sb->agblocks ||
        agno * sb->agblocks + agbno + sb->logblocks > sb->dblocks)
      BAD ("internal log at %" PRIu64 " (%" PRIu32 " blocks) outside "
           "the filesystem", sb->logstart, sb->logblocks);
  }
  return true;
}
