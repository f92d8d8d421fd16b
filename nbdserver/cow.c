/* The --cow overlay (see cow.h).
 *
 * A writer copies up the partial blocks at the ends of its range
 * (read from the image, written to the overlay) and then writes its
 * data to the overlay in one go.  Writers hold the lock exclusively,
 * readers shared; until the first write readers skip the lock.
 */
#include <config.h>

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include <linux/falloc.h>

#include "internal.h"
#include "cow.h"

struct nbds_cow {
  int fd;                       /* the overlay, unlinked */
  uint64_t size;
  uint64_t nblocks;
  uint64_t *bitmap;             /* bit set: block is in the overlay */
  struct nbds_cow_base base;
  uint64_t dirty;               /* blocks in the overlay, atomic */
  pthread_rwlock_t lock;
};

static const char zero_buf[64 * 1024];

static int
open_overlay (struct nbds_error *err)
{
  const char *dir = getenv ("TMPDIR");
  char *tmpl;
  int fd;

  /* Images can be big: /var/tmp is usually disk, /tmp often RAM. */
  if (dir == NULL || dir[0] == '\0')
    dir = "/var/tmp";
  /* O_TMPFILE: the file never has a name, so nothing is left behind. */
  fd = open (dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
  if (fd >= 0)
    return fd;
  if (asprintf (&tmpl, "%s/virt-bmap-nbd-cow.XXXXXX", dir) == -1) {
    nbds_set_error (err, errno, "asprintf");
    return -1;
  }
  fd = mkostemp (tmpl, O_CLOEXEC);
  if (fd == -1)
    nbds_set_error (err, errno, "cannot create the overlay in %s", dir);
  else
    unlink (tmpl);
  free (tmpl);
  return fd;
}

/* Extents of the image itself. */
static int
base_extents (struct nbds_cow *cow, uint32_t count, uint64_t offset,
              struct nbds_extents *e)
{
  if (cow->base.extents)
    return cow->base.extents (cow->base.handle, count, offset, e);
  return nbds_extents_add (e, offset, count, NBDS_EXTENT_DATA) == -1
    ? errno : 0;
}

struct nbds_cow *
nbds_cow_new (uint64_t size, const struct nbds_cow_base *base,
              struct nbds_error *err)
{
  struct nbds_cow *cow = calloc (1, sizeof *cow);

  if (cow == NULL) {
    nbds_set_error (err, errno, "calloc");
    return NULL;
  }
  cow->size = size;
  cow->base = *base;
  cow->nblocks = (size + NBDS_COW_BLOCK - 1) / NBDS_COW_BLOCK;
  cow->fd = open_overlay (err);
  if (cow->fd == -1) {
    free (cow);
    return NULL;
  }
  if (ftruncate (cow->fd, size) == -1) {
    nbds_set_error (err, errno, "overlay: ftruncate");
    goto error;
  }
  /* Untouched pages of a big calloc are never really allocated. */
  cow->bitmap = calloc ((cow->nblocks + 63) / 64, sizeof (uint64_t));
  if (cow->bitmap == NULL) {
    nbds_set_error (err, errno, "overlay bitmap");
    goto error;
  }
  pthread_rwlock_init (&cow->lock, NULL);
  return cow;

 error:
  close (cow->fd);
  free (cow);
  return NULL;
}

void
nbds_cow_free (struct nbds_cow *cow)
{
  if (cow == NULL)
    return;
  close (cow->fd);
  free (cow->bitmap);
  pthread_rwlock_destroy (&cow->lock);
  free (cow);
}

static bool
test_bit (const struct nbds_cow *cow, uint64_t blk)
{
  return (cow->bitmap[blk / 64] >> (blk % 64)) & 1;
}

static void
set_bits (struct nbds_cow *cow, uint64_t first, uint64_t end)
{
  uint64_t blk, added = 0;

  for (blk = first; blk < end; ++blk) {
    if (!test_bit (cow, blk)) {
      cow->bitmap[blk / 64] |= UINT64_C (1) << (blk % 64);
      added++;
    }
  }
  __atomic_add_fetch (&cow->dirty, added, __ATOMIC_RELEASE);
}

/* Blocks from blk (before limit) in the same state as blk. */
static uint64_t
run_of (const struct nbds_cow *cow, uint64_t blk, uint64_t limit, bool *in)
{
  const bool s = test_bit (cow, blk);
  const uint64_t same = s ? UINT64_MAX : 0;
  uint64_t b = blk + 1;

  *in = s;
  while (b < limit) {
    if (b % 64 == 0 && limit - b >= 64 && cow->bitmap[b / 64] == same) {
      b += 64;
      continue;
    }
    if (test_bit (cow, b) != s)
      break;
    b++;
  }
  return b - blk;
}

static uint64_t
block_end (const struct nbds_cow *cow, uint64_t blk)
{
  uint64_t end = (blk + 1) * NBDS_COW_BLOCK;

  return end < cow->size ? end : cow->size;
}

int
nbds_cow_pread (struct nbds_cow *cow, void *buf,
                uint32_t count, uint64_t offset)
{
  const uint64_t end = offset + count;
  char *p = buf;
  uint64_t pos = offset;
  int err = 0;

  if (__atomic_load_n (&cow->dirty, __ATOMIC_ACQUIRE) == 0)
    return cow->base.pread (cow->base.handle, buf, count, offset);

  pthread_rwlock_rdlock (&cow->lock);
  while (pos < end && err == 0) {
    const uint64_t blk = pos / NBDS_COW_BLOCK;
    const uint64_t limit = (end - 1) / NBDS_COW_BLOCK + 1;
    bool in;
    uint64_t run_end = (blk + run_of (cow, blk, limit, &in)) * NBDS_COW_BLOCK;

    if (run_end > end)
      run_end = end;
    if (in)
      err = nbds_full_pread (cow->fd, p, run_end - pos, pos);
    else
      err = cow->base.pread (cow->base.handle, p, run_end - pos, pos);
    p += run_end - pos;
    pos = run_end;
  }
  pthread_rwlock_unlock (&cow->lock);
  return err;
}

bool
nbds_cow_range_clean (struct nbds_cow *cow, uint32_t count, uint64_t offset)
{
  const uint64_t blk = offset / NBDS_COW_BLOCK;
  const uint64_t limit = (offset + count - 1) / NBDS_COW_BLOCK + 1;
  bool in, clean;

  if (__atomic_load_n (&cow->dirty, __ATOMIC_ACQUIRE) == 0)
    return true;
  pthread_rwlock_rdlock (&cow->lock);
  clean = run_of (cow, blk, limit, &in) == limit - blk && !in;
  pthread_rwlock_unlock (&cow->lock);
  return clean;
}

/* Puts a whole block in the overlay (lock held for writing). */
static int
copy_up (struct nbds_cow *cow, uint64_t blk)
{
  char block[NBDS_COW_BLOCK];
  const uint64_t start = blk * NBDS_COW_BLOCK;
  const size_t len = block_end (cow, blk) - start;
  int err;

  if (test_bit (cow, blk))
    return 0;
  err = cow->base.pread (cow->base.handle, block, len, start);
  if (err == 0)
    err = nbds_full_pwrite (cow->fd, block, len, start);
  if (err == 0)
    set_bits (cow, blk, blk + 1);
  return err;
}

/* Copies up the blocks that [offset, end) covers only partly. */
static int
copy_up_ends (struct nbds_cow *cow, uint64_t offset, uint64_t end)
{
  const uint64_t first = offset / NBDS_COW_BLOCK;
  const uint64_t last = (end - 1) / NBDS_COW_BLOCK;
  int err = 0;

  if (offset % NBDS_COW_BLOCK != 0 ||
      (first == last && end < block_end (cow, first)))
    err = copy_up (cow, first);
  if (err == 0 && last != first && end < block_end (cow, last))
    err = copy_up (cow, last);
  return err;
}

int
nbds_cow_pwrite (struct nbds_cow *cow, const void *buf,
                 uint32_t count, uint64_t offset)
{
  const uint64_t end = offset + count;
  int err;

  pthread_rwlock_wrlock (&cow->lock);
  err = copy_up_ends (cow, offset, end);
  if (err == 0)
    err = nbds_full_pwrite (cow->fd, buf, count, offset);
  if (err == 0)
    set_bits (cow, offset / NBDS_COW_BLOCK, (end - 1) / NBDS_COW_BLOCK + 1);
  pthread_rwlock_unlock (&cow->lock);
  return err;
}

static int
zero_overlay (struct nbds_cow *cow, uint32_t count, uint64_t offset)
{
  if (fallocate (cow->fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
                 offset, count) == 0)
    return 0;
  while (count > 0) {
    uint32_t n = count < sizeof zero_buf ? count : sizeof zero_buf;
    int err = nbds_full_pwrite (cow->fd, zero_buf, n, offset);

    if (err)
      return err;
    count -= n;
    offset += n;
  }
  return 0;
}

/* Trim and zero: the range reads as zeroes from the overlay. */
int
nbds_cow_zero (struct nbds_cow *cow, uint32_t count, uint64_t offset)
{
  const uint64_t end = offset + count;
  int err;

  pthread_rwlock_wrlock (&cow->lock);
  err = copy_up_ends (cow, offset, end);
  if (err == 0)
    err = zero_overlay (cow, count, offset);
  if (err == 0)
    set_bits (cow, offset / NBDS_COW_BLOCK, (end - 1) / NBDS_COW_BLOCK + 1);
  pthread_rwlock_unlock (&cow->lock);
  return err;
}

int
nbds_cow_extents (struct nbds_cow *cow, uint32_t count, uint64_t offset,
                  struct nbds_extents *e)
{
  const uint64_t end = offset + count;
  uint64_t pos = offset;
  int err = 0;

  if (__atomic_load_n (&cow->dirty, __ATOMIC_ACQUIRE) == 0)
    return base_extents (cow, count, offset, e);

  pthread_rwlock_rdlock (&cow->lock);
  while (pos < end) {
    const uint64_t blk = pos / NBDS_COW_BLOCK;
    const uint64_t limit = (end - 1) / NBDS_COW_BLOCK + 1;
    bool in;
    uint64_t run_end = (blk + run_of (cow, blk, limit, &in)) * NBDS_COW_BLOCK;
    int r;

    if (run_end > end)
      run_end = end;
    /* Written blocks are data; the rest is as the image says. */
    if (in) {
      r = nbds_extents_add (e, pos, run_end - pos, NBDS_EXTENT_DATA);
      if (r == -1)
        err = errno;
    }
    else
      err = base_extents (cow, run_end - pos, pos, e);
    if (err || e->next < run_end || e->n >= e->max)
      break;                    /* error, or the collector is full */
    pos = run_end;
  }
  pthread_rwlock_unlock (&cow->lock);
  return err;
}
