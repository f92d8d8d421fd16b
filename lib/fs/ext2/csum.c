/* ext4 inode checksums (metadata_csum) with the CPU's CRC-32C
 * instruction.  libext2fs's inode scan checks every inode with a
 * portable table-driven CRC, the biggest part of a scan's time; the
 * instruction is several times faster.  Same bytes, same verdict as
 * ext2fs_inode_csum_verify.
 */
#include <config.h>

#include <string.h>

#include "ext2-map.h"

#if defined (__x86_64__) && defined (__GNUC__) && \
  __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define HAVE_CRC32C_INSN 1
#endif

#ifdef HAVE_CRC32C_INSN

/* CRC-32C as libext2fs's ext2fs_crc32c_le: no inversion in or out. */
__attribute__ ((target ("sse4.2")))
static uint32_t
crc32c (uint32_t crc, const void *buf, size_t len)
{
  const unsigned char *p = buf;
  uint64_t c = crc;

  for (; len >= 8; p += 8, len -= 8) {
    uint64_t w;

    memcpy (&w, p, 8);
    c = __builtin_ia32_crc32di (c, w);
  }
  for (; len > 0; p++, len--)
    c = __builtin_ia32_crc32qi (c, *p);
  return c;
}

bool
ext2_inode_csum_fast (ext2_filsys fs)
{
  return ext2fs_has_feature_metadata_csum (fs->super) &&
    __builtin_cpu_supports ("sse4.2");
}

bool
ext2_inode_csum_ok (ext2_filsys fs, ext2_ino_t ino, void *raw)
{
  struct ext2_inode_large *in = raw;
  const size_t size = EXT2_INODE_SIZE (fs->super);
  const bool has_hi = size > EXT2_GOOD_OLD_INODE_SIZE &&
    in->i_extra_isize >= EXT4_INODE_CSUM_HI_EXTRA_END;
  const uint16_t lo = in->i_checksum_lo, hi = has_hi ? in->i_checksum_hi : 0;
  const uint32_t provided = lo | (uint32_t) hi << 16;
  const uint32_t le_ino = ino;  /* little endian host */
  const unsigned char *p = raw;
  uint32_t crc;
  size_t i;

  /* The checksum covers the inode with its checksum fields zeroed. */
  in->i_checksum_lo = 0;
  if (has_hi)
    in->i_checksum_hi = 0;
  crc = crc32c (fs->csum_seed, &le_ino, sizeof le_ino);
  crc = crc32c (crc, &in->i_generation, sizeof in->i_generation);
  crc = crc32c (crc, raw, size);
  in->i_checksum_lo = lo;
  if (has_hi)
    in->i_checksum_hi = hi;
  if (!has_hi)
    crc &= 0xffff;
  if (crc == provided)
    return true;

  /* As libext2fs: an all-zero inode passes. */
  for (i = 0; i < sizeof (struct ext2_inode); i++)
    if (p[i])
      return false;
  return true;
}

#else /* !HAVE_CRC32C_INSN */

bool
ext2_inode_csum_fast (ext2_filsys fs)
{
  return false;                 /* libext2fs checks them */
}

bool
ext2_inode_csum_ok (ext2_filsys fs, ext2_ino_t ino, void *raw)
{
  return true;
}

#endif /* !HAVE_CRC32C_INSN */
