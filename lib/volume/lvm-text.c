/* LVM's metadata text as a tree.  The format (LVM's config syntax):
 *
 *   name {               a section
 *     key = 123          an integer
 *     key = "str\"ing"   a string; \ escapes the next character
 *     key = ["a", 1]     an array of integers and strings
 *   }                    # a comment runs to the end of the line
 *
 * The text is untrusted: depth and node count are bounded, every
 * string is copied into one buffer no longer than the text.
 */
#include <config.h>

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "lvm.h"

struct vbm_lvm_tree {
  struct vbm_lvm_node root;
  char *strings;                /* keys and unescaped strings */
  struct vbm_lvm_node **blocks; /* nodes, allocated in blocks */
  size_t n_blocks;
  size_t used;                  /* nodes used in the last block */
  size_t n_nodes;
};

#define BLOCK_NODES 1024

struct parser {
  const char *p, *end;
  unsigned line;
  char *out;                    /* next free byte of tree->strings */
  struct vbm_lvm_tree *t;
  struct vbm_error *err;
};

static int
fail (struct parser *ps, const char *what)
{
  vbm_set_error (ps->err, EINVAL, "metadata text, line %u: %s",
                 ps->line, what);
  return -1;
}

static struct vbm_lvm_node *
new_node (struct parser *ps)
{
  struct vbm_lvm_tree *t = ps->t;
  struct vbm_lvm_node **b;

  if (t->n_nodes >= VBM_LVM_MAX_NODES) {
    fail (ps, "too many values");
    return NULL;
  }
  if (t->n_blocks == 0 || t->used == BLOCK_NODES) {
    b = realloc (t->blocks, (t->n_blocks + 1) * sizeof *b);
    if (b == NULL)
      goto nomem;
    t->blocks = b;
    b[t->n_blocks] = calloc (BLOCK_NODES, sizeof (struct vbm_lvm_node));
    if (b[t->n_blocks] == NULL)
      goto nomem;
    t->n_blocks++;
    t->used = 0;
  }
  t->n_nodes++;
  return &t->blocks[t->n_blocks - 1][t->used++];
 nomem:
  vbm_set_error (ps->err, ENOMEM, "metadata text: out of memory");
  return NULL;
}

/* Skips blanks and comments. */
static void
skip (struct parser *ps)
{
  while (ps->p < ps->end) {
    char c = *ps->p;

    if (c == '\n') {
      ps->line++;
      ps->p++;
    }
    else if (c == ' ' || c == '\t' || c == '\r')
      ps->p++;
    else if (c == '#') {
      while (ps->p < ps->end && *ps->p != '\n')
        ps->p++;
    }
    else
      break;
  }
}

static bool
key_char (char c)
{
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
    (c >= '0' && c <= '9') || c == '_' || c == '.' || c == '+' ||
    c == '-';
}

/* A key or section name, copied into the string buffer. */
static const char *
parse_key (struct parser *ps)
{
  const char *start = ps->p;
  char *s = ps->out;

  while (ps->p < ps->end && key_char (*ps->p))
    ps->p++;
  if (ps->p == start) {
    fail (ps, "a name was expected");
    return NULL;
  }
  memcpy (s, start, ps->p - start);
  ps->out += ps->p - start;
  *ps->out++ = '\0';
  return s;
}

static int
parse_string (struct parser *ps, struct vbm_lvm_node *n)
{
  char *s = ps->out;

  ps->p++;                      /* the opening quote */
  for (;;) {
    if (ps->p >= ps->end)
      return fail (ps, "unterminated string");
    if (*ps->p == '"')
      break;
    if (*ps->p == '\\') {
      if (++ps->p >= ps->end)
        return fail (ps, "unterminated string");
    }
    if (*ps->p == '\n')
      ps->line++;
    /* The output never overtakes the input: each input byte gives at
     * most one output byte, and the quotes give room for the NUL.
     */
    *ps->out++ = *ps->p++;
  }
  ps->p++;
  *ps->out++ = '\0';
  n->type = VBM_LVM_STRING;
  n->str = s;
  return 0;
}

static int
parse_int (struct parser *ps, struct vbm_lvm_node *n)
{
  bool neg = false;
  uint64_t v = 0;
  const char *start;

  if (*ps->p == '-') {
    neg = true;
    ps->p++;
  }
  start = ps->p;
  while (ps->p < ps->end && *ps->p >= '0' && *ps->p <= '9') {
    unsigned d = *ps->p - '0';

    if (v > (UINT64_C (1) << 63) / 10 ||
        v * 10 + d > (UINT64_C (1) << 63) - (neg ? 0 : 1))
      return fail (ps, "integer out of range");
    v = v * 10 + d;
    ps->p++;
  }
  if (ps->p == start)
    return fail (ps, "a value was expected");
  if (ps->p < ps->end && (*ps->p == '.' || key_char (*ps->p)))
    return fail (ps, "not an integer");
  n->type = VBM_LVM_INT;
  /* -2^63 is representable; v is at most 2^63 only when negative. */
  n->num = neg ? (int64_t) (0 - v) : (int64_t) v;
  return 0;
}

static int
parse_scalar (struct parser *ps, struct vbm_lvm_node *n)
{
  if (ps->p >= ps->end)
    return fail (ps, "a value was expected");
  if (*ps->p == '"')
    return parse_string (ps, n);
  return parse_int (ps, n);
}

static int
parse_array (struct parser *ps, struct vbm_lvm_node *n)
{
  struct vbm_lvm_node **tail = &n->child;

  n->type = VBM_LVM_ARRAY;
  ps->p++;                      /* [ */
  skip (ps);
  if (ps->p < ps->end && *ps->p == ']') {
    ps->p++;
    return 0;
  }
  for (;;) {
    struct vbm_lvm_node *e = new_node (ps);

    if (e == NULL)
      return -1;
    skip (ps);
    if (parse_scalar (ps, e) == -1)
      return -1;
    *tail = e;
    tail = &e->next;
    skip (ps);
    if (ps->p >= ps->end)
      return fail (ps, "unterminated array");
    if (*ps->p == ']') {
      ps->p++;
      return 0;
    }
    if (*ps->p != ',')
      return fail (ps, "',' or ']' was expected in an array");
    ps->p++;
  }
}

/* The items of a section up to its '}' (or the end of the text for
 * the root).
 */
static int
parse_items (struct parser *ps, struct vbm_lvm_node *sec, unsigned depth)
{
  struct vbm_lvm_node **tail = &sec->child;

  if (depth > VBM_LVM_MAX_DEPTH)
    return fail (ps, "sections nested too deep");
  for (;;) {
    struct vbm_lvm_node *n;

    skip (ps);
    if (ps->p >= ps->end) {
      if (depth > 0)
        return fail (ps, "unterminated section");
      return 0;
    }
    if (*ps->p == '}') {
      if (depth == 0)
        return fail (ps, "unbalanced '}'");
      ps->p++;
      return 0;
    }
    n = new_node (ps);
    if (n == NULL)
      return -1;
    n->key = parse_key (ps);
    if (n->key == NULL)
      return -1;
    *tail = n;
    tail = &n->next;
    skip (ps);
    if (ps->p >= ps->end)
      return fail (ps, "'=' or '{' was expected");
    if (*ps->p == '{') {
      ps->p++;
      n->type = VBM_LVM_SECTION;
      if (parse_items (ps, n, depth + 1) == -1)
        return -1;
    }
    else if (*ps->p == '=') {
      ps->p++;
      skip (ps);
      if (ps->p < ps->end && *ps->p == '[') {
        if (parse_array (ps, n) == -1)
          return -1;
      }
      else if (parse_scalar (ps, n) == -1)
        return -1;
    }
    else
      return fail (ps, "'=' or '{' was expected");
  }
}

void
vbm_lvm_tree_free (struct vbm_lvm_tree *t)
{
  size_t i;

  if (t == NULL)
    return;
  for (i = 0; i < t->n_blocks; ++i)
    free (t->blocks[i]);
  free (t->blocks);
  free (t->strings);
  free (t);
}

struct vbm_lvm_tree *
vbm_lvm_text_parse (const char *text, size_t len, struct vbm_error *err)
{
  const char *nul = memchr (text, '\0', len);
  struct vbm_lvm_tree *t;
  struct parser ps;

  if (nul)
    len = nul - text;
  t = calloc (1, sizeof *t);
  if (t)
    t->strings = malloc (len + 1);
  if (t == NULL || t->strings == NULL) {
    vbm_set_error (err, ENOMEM, "metadata text: out of memory");
    vbm_lvm_tree_free (t);
    return NULL;
  }
  t->root.type = VBM_LVM_SECTION;
  ps = (struct parser) {
    .p = text, .end = text + len, .line = 1, .out = t->strings,
    .t = t, .err = err,
  };
  if (parse_items (&ps, &t->root, 0) == -1) {
    vbm_lvm_tree_free (t);
    return NULL;
  }
  return t;
}

const struct vbm_lvm_node *
vbm_lvm_tree_root (const struct vbm_lvm_tree *t)
{
  return &t->root;
}

const struct vbm_lvm_node *
vbm_lvm_find (const struct vbm_lvm_node *sec, const char *key)
{
  const struct vbm_lvm_node *n;

  if (sec == NULL || sec->type != VBM_LVM_SECTION)
    return NULL;
  for (n = sec->child; n; n = n->next)
    if (strcmp (n->key, key) == 0)
      return n;
  return NULL;
}

bool
vbm_lvm_get_int (const struct vbm_lvm_node *sec, const char *key, int64_t *v)
{
  const struct vbm_lvm_node *n = vbm_lvm_find (sec, key);

  if (n == NULL || n->type != VBM_LVM_INT)
    return false;
  *v = n->num;
  return true;
}

bool
vbm_lvm_get_str (const struct vbm_lvm_node *sec, const char *key,
                 const char **v)
{
  const struct vbm_lvm_node *n = vbm_lvm_find (sec, key);

  if (n == NULL || n->type != VBM_LVM_STRING)
    return false;
  *v = n->str;
  return true;
}

bool
vbm_lvm_has_flag (const struct vbm_lvm_node *sec, const char *key,
                  const char *s)
{
  const struct vbm_lvm_node *n = vbm_lvm_find (sec, key), *e;

  if (n == NULL || n->type != VBM_LVM_ARRAY)
    return false;
  for (e = n->child; e; e = e->next)
    if (e->type == VBM_LVM_STRING && strcmp (e->str, s) == 0)
      return true;
  return false;
}
