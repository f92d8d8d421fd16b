/* A read-only libext2fs io_manager that reads through vbm_volume_pread,
 * so a filesystem inside a partition (or any other source) is read in
 * place, without a temporary copy.
 *
 * An io_manager is a static table of functions and ext2fs_open2 gives
 * it only a name, so the name carries the address of the target:
 * "vbm:<hex address>".  There is no global mutable state.
 */
#include <config.h>

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "checked-overflow.h"
#include "ext2-map.h"

#define NAME_PREFIX "vbm:"

struct io_private {
  struct vbm_ext2_io_target *target;
  struct struct_io_stats stats;
};

void
vbm_ext2_io_name (char *buf, size_t len, struct vbm_ext2_io_target *target)
{
  snprintf (buf, len, NAME_PREFIX "%" PRIxPTR, (uintptr_t) target);
}

static errcode_t
vbm_io_open (const char *name, int flags, io_channel *channel)
{
  struct vbm_ext2_io_target *target;
  struct io_private *priv = NULL;
  io_channel io = NULL;
  uintmax_t addr;
  char *end;
  errcode_t err;

  if (name == NULL || strncmp (name, NAME_PREFIX, strlen (NAME_PREFIX)))
    return EXT2_ET_BAD_DEVICE_NAME;
  errno = 0;
  addr = strtoumax (name + strlen (NAME_PREFIX), &end, 16);
  if (errno || *end != '\0' || addr == 0 || addr > UINTPTR_MAX)
    return EXT2_ET_BAD_DEVICE_NAME;
  target = (struct vbm_ext2_io_target *) (uintptr_t) addr;
  if (target->magic != VBM_EXT2_IO_MAGIC)
    return EXT2_ET_BAD_DEVICE_NAME;
  if (flags & IO_FLAG_RW)
    return EROFS;

  err = ext2fs_get_memzero (sizeof *io, &io);
  if (err)
    return err;
  err = ext2fs_get_memzero (sizeof *priv, &priv);
  if (err)
    goto error;
  err = ext2fs_get_mem (strlen (name) + 1, &io->name);
  if (err)
    goto error;
  strcpy (io->name, name);

  priv->target = target;
  priv->stats.num_fields = 2;
  io->magic = EXT2_ET_MAGIC_IO_CHANNEL;
  io->manager = &vbm_ext2_io_manager;
  io->block_size = 1024;
  io->refcount = 1;
  io->private_data = priv;
  *channel = io;
  return 0;

 error:
  if (io)
    ext2fs_free_mem (&io->name);
  ext2fs_free_mem (&priv);
  ext2fs_free_mem (&io);
  return err;
}

static errcode_t
vbm_io_close (io_channel channel)
{
  struct io_private *priv;

  if (channel == NULL || channel->magic != EXT2_ET_MAGIC_IO_CHANNEL)
    return EXT2_ET_MAGIC_IO_CHANNEL;
  if (--channel->refcount > 0)
    return 0;
  priv = channel->private_data;
  ext2fs_free_mem (&priv);
  ext2fs_free_mem (&channel->name);
  ext2fs_free_mem (&channel);
  return 0;
}

static errcode_t
vbm_io_set_blksize (io_channel channel, int blksize)
{
  if (blksize <= 0)
    return EXT2_ET_INVALID_ARGUMENT;
  channel->block_size = blksize;
  return 0;
}

/* count > 0 is a number of blocks, count < 0 a number of bytes. */
static errcode_t
vbm_io_read_blk64 (io_channel channel, unsigned long long block,
                   int count, void *data)
{
  struct io_private *priv = channel->private_data;
  struct vbm_ext2_io_target *t = priv->target;
  uint64_t size, offset, end;
  errcode_t err;

  if (count < 0)
    size = - (int64_t) count;
  else if (MUL_OVERFLOW ((uint64_t) count, (uint64_t) channel->block_size,
                         &size))
    return EXT2_ET_INVALID_ARGUMENT;
  if (size == 0)
    return 0;
  if (MUL_OVERFLOW ((uint64_t) block, (uint64_t) channel->block_size,
                    &offset) ||
      ADD_OVERFLOW (offset, size, &end) ||
      end > t->vol->length) {
    /* Past the end of the volume: a truncated image. */
    err = EXT2_ET_SHORT_READ;
    goto error;
  }

  if (vbm_volume_pread (t->ctx, t->vol, data, size, offset) == -1) {
    /* A failing source, not corrupt metadata: remember it, the build
     * fails with this error once the mapper returns.
     */
    if (!t->io_failed) {
      t->io_failed = true;
      if (t->ctx->err)
        t->io_error = *t->ctx->err;
      else
        vbm_set_error (&t->io_error, EIO, "read error");
    }
    err = t->io_error.errnum ? t->io_error.errnum : EIO;
    goto error;
  }
  t->bytes_read += size;
  priv->stats.bytes_read += size;
  return 0;

 error:
  /* Like unix_io: zero the buffer so nothing stale is parsed, and let
   * an application's handler have the last word.
   */
  memset (data, 0, size);
  if (channel->read_error)
    return channel->read_error (channel, block, count, data, size, 0, err);
  return err;
}

static errcode_t
vbm_io_read_blk (io_channel channel, unsigned long block,
                 int count, void *data)
{
  return vbm_io_read_blk64 (channel, block, count, data);
}

static errcode_t
vbm_io_write_blk (io_channel channel, unsigned long block,
                  int count, const void *data)
{
  return EROFS;
}

static errcode_t
vbm_io_write_blk64 (io_channel channel, unsigned long long block,
                    int count, const void *data)
{
  return EROFS;
}

static errcode_t
vbm_io_write_byte (io_channel channel, unsigned long offset,
                   int count, const void *data)
{
  return EROFS;
}

static errcode_t
vbm_io_flush (io_channel channel)
{
  return 0;                     /* nothing is ever written */
}

static errcode_t
vbm_io_set_option (io_channel channel, const char *option, const char *arg)
{
  return EXT2_ET_INVALID_ARGUMENT; /* we have no options */
}

static errcode_t
vbm_io_get_stats (io_channel channel, io_stats *stats)
{
  struct io_private *priv = channel->private_data;

  if (stats)
    *stats = &priv->stats;
  return 0;
}

static errcode_t
vbm_io_discard (io_channel channel, unsigned long long block,
                unsigned long long count)
{
  return EROFS;
}

static errcode_t
vbm_io_zeroout (io_channel channel, unsigned long long block,
                unsigned long long count)
{
  return EROFS;
}

struct struct_io_manager vbm_ext2_io_manager = {
  .magic = EXT2_ET_MAGIC_IO_MANAGER,
  .name = "virt-bmap volume I/O manager",
  .open = vbm_io_open,
  .close = vbm_io_close,
  .set_blksize = vbm_io_set_blksize,
  .read_blk = vbm_io_read_blk,
  .write_blk = vbm_io_write_blk,
  .flush = vbm_io_flush,
  .write_byte = vbm_io_write_byte,
  .set_option = vbm_io_set_option,
  .get_stats = vbm_io_get_stats,
  .read_blk64 = vbm_io_read_blk64,
  .write_blk64 = vbm_io_write_blk64,
  .discard = vbm_io_discard,
  .zeroout = vbm_io_zeroout,
};
