/* Walking a tree: every block once per walk, depth first in key
 * order.  Levels must go down by one from the root (so a walk cannot
 * loop); each block gets from its parent the key range it may hold
 * (its pointer's key up to the next pointer's), and items must come
 * in strictly increasing key order inside that range: the rest are
 * skipped, as the kernel's tree checker turns down one block, not the
 * rest of the tree.  Ranges of siblings are disjoint, so an item is
 * given once per walk.  The visits of all walks together are bounded:
 * a hostile tree could point to the same blocks over and over.
 */
#include <config.h>

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "btrfs-map.h"

struct walk {
  struct bt_tree *tree;
  bt_item_fn fn;
  void *opaque;
};

/* The keys a block may hold: lo <= key (if has_lo), key < hi (if
 * has_hi).
 */
struct range {
  struct bt_key lo, hi;
  bool has_lo, has_hi;
};

static bool
in_range (const struct range *r, const struct bt_key *k)
{
  return (!r->has_lo || bt_key_cmp (k, &r->lo) >= 0) &&
    (!r->has_hi || bt_key_cmp (k, &r->hi) < 0);
}

/* ---- The set of blocks seen. ---- */

static size_t
slot_of (uint64_t key, size_t cap)
{
  key ^= key >> 29;
  key *= UINT64_C (0xbf58476d1ce4e5b9);
  key ^= key >> 32;
  return key & (cap - 1);
}

/* Adds logical: 1 if new, 0 if seen before, -1 out of memory. */
static int
seen_add (struct btrfs_map *m, uint64_t logical)
{
  uint64_t key = logical + 1;   /* 0 marks an empty slot */
  size_t i;

  if (m->seen_len + 1 > m->seen_cap / 2) {
    size_t cap = m->seen_cap ? m->seen_cap * 2 : 1024, j;
    uint64_t *n = calloc (cap, sizeof *n);

    if (n == NULL)
      return -1;
    for (j = 0; j < m->seen_cap; j++)
      if (m->seen[j]) {
        for (i = slot_of (m->seen[j], cap); n[i]; i = (i + 1) & (cap - 1))
          ;
        n[i] = m->seen[j];
      }
    free (m->seen);
    m->seen = n;
    m->seen_cap = cap;
  }
  for (i = slot_of (key, m->seen_cap); m->seen[i];
       i = (i + 1) & (m->seen_cap - 1))
    if (m->seen[i] == key)
      return 0;
  m->seen[i] = key;
  m->seen_len++;
  return 1;
}

void
bt_seen_free (struct btrfs_map *m)
{
  free (m->seen);
  m->seen = NULL;
  m->seen_cap = m->seen_len = 0;
}

struct bt_tree *
bt_tree_get (struct btrfs_map *m, uint64_t id, const char *name)
{
  struct bt_tree t = { .id = id, .name = name };
  size_t i;

  for (i = 0; i < m->trees.len; i++)
    if (m->trees.ptr[i].id == id)
      return &m->trees.ptr[i];
  if (bt_tree_vector_append (&m->trees, t) == -1) {
    bt_nomem (m);
    return NULL;
  }
  return &m->trees.ptr[m->trees.len - 1];
}

/* ---- The walk. ---- */

static void
bad_item (struct btrfs_map *m, uint64_t leaf, unsigned i, const char *why)
{
  if (m->bad_items++ < 10)
    bt_warn (m, "btrfs tree block %" PRIu64 " item %u: %s: skipped", leaf,
             i, why);
}

static int
leaf_items (struct btrfs_map *m, struct walk *w, const unsigned char *b,
            uint64_t logical, const struct range *range)
{
  const uint32_t n = vbm_le32 (b + 96);
  const uint32_t room = m->ns - BT_HEADER_SIZE;
  struct bt_key last;
  bool have_last = false;
  uint32_t i;

  for (i = 0; i < n; i++) {
    const unsigned char *it = b + BT_HEADER_SIZE + (size_t) i * BT_ITEM_SIZE;
    uint32_t off = vbm_le32 (it + 17), size = vbm_le32 (it + 21);
    struct bt_key k;

    bt_key_read (it, &k);
    if ((have_last && bt_key_cmp (&k, &last) <= 0) ||
        !in_range (range, &k)) {
      bad_item (m, logical, i, "key out of order");
      continue;
    }
    if (off > room || size > room - off ||
        off < (uint64_t) n * BT_ITEM_SIZE) {
      bad_item (m, logical, i, "data outside the leaf");
      continue;
    }
    last = k;
    have_last = true;
    if (w->fn &&
        w->fn (m, w->opaque, &k, b + BT_HEADER_SIZE + off, size, logical,
               BT_HEADER_SIZE + off) == -1)
      return -1;
  }
  return 0;
}

static int
walk (struct btrfs_map *m, struct walk *w, uint64_t logical, unsigned level,
      const struct range *range)
{
  const unsigned char *b;
  unsigned char *copy;
  struct bt_key prev;
  bool have_prev = false;
  uint32_t n, i;
  int fatal, r;

  if (m->visits_left == 0) {
    if (!m->budget_warned)
      bt_warn (m, "btrfs trees: too many tree blocks visited (a loop of "
               "shared blocks?): the rest is not walked");
    m->budget_warned = true;
    return 0;
  }
  m->visits_left--;
  b = bt_read_block (m, logical, level, &fatal);
  if (b == NULL)
    return fatal;
  r = seen_add (m, logical);
  if (r == -1 || (r == 1 && bt_u64_vector_append (&w->tree->blocks,
                                                 logical) == -1))
    return bt_nomem (m);
  if (level == 0)
    return leaf_items (m, w, b, logical, range);

  /* The cache slot may be reused below: a copy per level. */
  copy = m->level_buf[level];
  if (copy == NULL && (copy = m->level_buf[level] = malloc (m->ns)) == NULL)
    return bt_nomem (m);
  memcpy (copy, b, m->ns);
  n = vbm_le32 (copy + 96);
  for (i = 0; i < n; i++) {
    const unsigned char *p = copy + BT_HEADER_SIZE + (size_t) i * BT_PTR_SIZE;
    struct range child = *range;
    struct bt_key k;
    uint32_t j;

    bt_key_read (p, &k);
    if ((have_prev && bt_key_cmp (&k, &prev) <= 0) || !in_range (range, &k)) {
      bad_item (m, logical, i, "key out of order");
      continue;
    }
    prev = k;
    have_prev = true;
    child.lo = k;
    child.has_lo = true;
    /* Up to the next greater key: pointers in between are out of
     * order and skipped when their turn comes.
     */
    for (j = i + 1; j < n; j++) {
      struct bt_key next;

      bt_key_read (copy + BT_HEADER_SIZE + (size_t) j * BT_PTR_SIZE, &next);
      if (bt_key_cmp (&next, &k) > 0) {
        if (!child.has_hi || bt_key_cmp (&next, &child.hi) < 0) {
          child.hi = next;
          child.has_hi = true;
        }
        break;
      }
    }
    if (walk (m, w, vbm_le64 (p + 17), level - 1, &child) == -1)
      return -1;
  }
  return 0;
}

int
bt_walk_tree (struct btrfs_map *m, struct bt_tree *tree, uint64_t root,
              unsigned level, bt_item_fn fn, void *opaque)
{
  struct walk w = { .tree = tree, .fn = fn, .opaque = opaque };
  struct range all = { .has_lo = false, .has_hi = false };

  if (level >= BT_MAX_LEVEL) {
    bt_warn (m, "btrfs %s: root level %u: not walked",
             tree->name ? tree->name : "tree", level);
    return 0;
  }
  return walk (m, &w, root, level, &all);
}
