/* Unit tests of the LVM reader's pure parts: the metadata text
 * parser (well-formed and hostile text), the label and metadata area
 * headers (built here with their checksums), and the placement of
 * RAID 5 data (md's left-symmetric picture) and of striped data.
 */
#include <config.h>

#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "lvm.h"

static void
put_le32 (unsigned char *p, uint32_t v)
{
  p[0] = v; p[1] = v >> 8; p[2] = v >> 16; p[3] = v >> 24;
}

static void
put_le64 (unsigned char *p, uint64_t v)
{
  put_le32 (p, v);
  put_le32 (p + 4, v >> 32);
}

static void
test_text (void)
{
  static const char text[] =
    "# comment\n"
    "vg { a = 1 b = -2 s = \"x\\\"y\\\\z\" # more\n"
    "  arr = [\"p\", 3, \"q\"] e = [] sub { deep = 9223372036854775807 } }\n"
    "contents = \"Text\"\n";
  struct vbm_error err;
  struct vbm_lvm_tree *t = vbm_lvm_text_parse (text, sizeof text - 1, &err);
  const struct vbm_lvm_node *vg, *arr;
  const char *s;
  int64_t v;

  assert (t != NULL);
  vg = vbm_lvm_find (vbm_lvm_tree_root (t), "vg");
  assert (vg && vg->type == VBM_LVM_SECTION);
  assert (vbm_lvm_get_int (vg, "a", &v) && v == 1);
  assert (vbm_lvm_get_int (vg, "b", &v) && v == -2);
  assert (vbm_lvm_get_str (vg, "s", &s) && strcmp (s, "x\"y\\z") == 0);
  assert (!vbm_lvm_get_int (vg, "s", &v));
  arr = vbm_lvm_find (vg, "arr");
  assert (arr && arr->type == VBM_LVM_ARRAY);
  assert (arr->child->next->num == 3);
  assert (vbm_lvm_has_flag (vg, "arr", "q") && !vbm_lvm_has_flag (vg, "arr", "r"));
  assert (vbm_lvm_get_int (vbm_lvm_find (vg, "sub"), "deep", &v) &&
          v == INT64_MAX);
  vbm_lvm_tree_free (t);

  /* Hostile or broken text is refused with a reason. */
  {
    static const char *bad[] = {
      "vg { a = \"unterminated }", "vg { a = 1", "}", "vg { a = [1, 2 }",
      "vg { a = 99999999999999999999 }", "vg { a = 1.5 }", "vg { = 1 }",
      "vg { a = }", "vg { a = [1,, 2] }", "vg { a : 1 }",
    };
    char deep[200] = "";
    size_t i;

    for (i = 0; i < sizeof bad / sizeof bad[0]; ++i) {
      t = vbm_lvm_text_parse (bad[i], strlen (bad[i]), &err);
      if (t != NULL) {
        fprintf (stderr, "accepted: %s\n", bad[i]);
        abort ();
      }
      assert (strstr (err.msg, "line 1") != NULL);
    }
    for (i = 0; i < 20; ++i)
      strcat (deep, "a {");
    for (i = 0; i < 20; ++i)
      strcat (deep, "}");
    assert (vbm_lvm_text_parse (deep, strlen (deep), &err) == NULL);
    assert (strstr (err.msg, "deep") != NULL);
  }
  /* The text ends at a NUL. */
  t = vbm_lvm_text_parse ("a = 1\0garbage {", 15, &err);
  assert (t != NULL);
  vbm_lvm_tree_free (t);
}

static void
test_headers (void)
{
  unsigned char sec[512] = { 0 }, mda[512] = { 0 };
  struct vbm_lvm_label l;
  struct vbm_lvm_mda_header h;
  struct vbm_lvm_text_pieces p;
  struct vbm_error err;

  memcpy (sec, "LABELONE", 8);
  put_le64 (sec + 8, 1);
  put_le32 (sec + 20, 32);
  memcpy (sec + 24, "LVM2 001", 8);
  memcpy (sec + 32, "0123456789abcdefghijklmnopqrstuv", 32);
  put_le64 (sec + 64, 8 << 20);
  put_le64 (sec + 72, 1 << 20);         /* data area at 1 MiB */
  put_le64 (sec + 104, 4096);           /* metadata area */
  put_le64 (sec + 112, 1044480);
  put_le32 (sec + 16, vbm_lvm_crc (VBM_LVM_INITIAL_CRC, sec + 20, 492));
  assert (vbm_lvm_parse_label (sec, 1, &l, &err) == 0);
  assert (strcmp (l.pv_uuid, "0123456789abcdefghijklmnopqrstuv") == 0);
  assert (l.n_data == 1 && l.data[0].offset == 1 << 20);
  assert (l.n_meta == 1 && l.meta[0].offset == 4096);
  assert (vbm_lvm_parse_label (sec, 2, &l, &err) == -1);
  sec[100] ^= 1;
  assert (vbm_lvm_parse_label (sec, 1, &l, &err) == -1);
  assert (strstr (err.msg, "checksum") != NULL);
  memset (sec, 0, sizeof sec);
  assert (vbm_lvm_parse_label (sec, 1, &l, &err) == 1);

  memcpy (mda + 4, " LVM2 x[5A%r0N*>", 16);
  put_le32 (mda + 20, 1);
  put_le64 (mda + 24, 4096);
  put_le64 (mda + 32, 8192);
  put_le64 (mda + 40, 7000);            /* wraps: 1192 bytes, then 808 */
  put_le64 (mda + 48, 2000);
  put_le32 (mda, vbm_lvm_crc (VBM_LVM_INITIAL_CRC, mda + 4, 508));
  assert (vbm_lvm_parse_mda_header (mda, 4096, &h, &err) == 0);
  assert (h.n_rlocns == 1);
  assert (vbm_lvm_text_pieces (&h, &h.rlocn[0], &p, &err) == 0);
  assert (p.n == 2 && p.offset[0] == 4096 + 7000 && p.len[0] == 1192 &&
          p.offset[1] == 4096 + 512 && p.len[1] == 808);
  h.rlocn[0].size = 8000;               /* more than the ring */
  assert (vbm_lvm_text_pieces (&h, &h.rlocn[0], &p, &err) == -1);
  assert (vbm_lvm_parse_mda_header (mda, 8192, &h, &err) == -1);
  mda[30] ^= 1;
  assert (vbm_lvm_parse_mda_header (mda, 4096, &h, &err) == -1);
}

/* Records which PV and PV offset each 64 KiB chunk lands on. */
struct rec {
  unsigned n;
  uint32_t pv[64];
  uint64_t off[64];
};

static int
record (void *opaque, const struct vbm_lvm_piece *p)
{
  struct rec *r = opaque;

  assert (r->n < 64 && p->len == 65536);
  r->pv[r->n] = p->pv;
  r->off[r->n] = p->pv_offset;
  r->n++;
  return 0;
}

static struct vbm_lvm_vg *
vg_of (const char *text)
{
  struct vbm_error err;
  struct vbm_lvm_tree *t = vbm_lvm_text_parse (text, strlen (text), &err);
  struct vbm_lvm_vg *vg;

  if (t == NULL) {
    fprintf (stderr, "%s\n", err.msg);
    abort ();
  }
  vg = vbm_lvm_vg_parse (t, NULL, NULL, &err);
  vbm_lvm_tree_free (t);
  assert (vg != NULL);
  vbm_lvm_vg_check (vg, NULL, NULL);
  return vg;
}

#define PV(n) "pv" #n " { id = \"" #n "123456789abcdefghijklmnopqrstuv\" " \
  "pe_start = 2048 pe_count = 100 }\n"
#define IMG(n) "r_rimage_" #n " { segment1 { start_extent = 0 " \
  "extent_count = 2 type = \"striped\" stripe_count = 1 " \
  "stripes = [\"pv" #n "\", 0] } }\n" \
  "r_rmeta_" #n " { segment1 { start_extent = 0 " \
  "extent_count = 1 type = \"striped\" stripe_count = 1 " \
  "stripes = [\"pv" #n "\", 50] } }\n"

static void
test_layout (void)
{
  /* RAID 5 left-symmetric over 3 images, 64 KiB chunks, 256 KiB
   * extents: md's picture is   D0 D1 P / D3 P D2 / P D4 D5 / D6 D7 P.
   */
  static const char raid5[] =
    "vg { id = \"ABCDEFGHIJKLMNOPQRSTUVWXYZ012345\" seqno = 1 "
    "extent_size = 512\n physical_volumes {\n" PV(0) PV(1) PV(2) "}\n"
    "logical_volumes {\n"
    "r { status = [\"VISIBLE\"] segment1 { start_extent = 0 "
    "extent_count = 4 type = \"raid5\" device_count = 3 stripe_size = 128 "
    "raids = [\"r_rmeta_0\", \"r_rimage_0\", \"r_rmeta_1\", \"r_rimage_1\", "
    "\"r_rmeta_2\", \"r_rimage_2\"] } }\n"
    IMG(0) IMG(1) IMG(2) "} }\n";
  static const uint32_t want_pv[8] = { 0, 1, 2, 0, 1, 2, 0, 1 };
  static const uint64_t want_row[8] = { 0, 0, 1, 1, 2, 2, 3, 3 };
  struct vbm_lvm_vg *vg = vg_of (raid5);
  struct rec r = { 0 };
  uint64_t unmapped = 0;
  unsigned i;

  assert (vg->n_lvs == 7 && !vg->lvs[0].broken && vg->lvs[0].size == 1 << 20);
  assert (vbm_lvm_resolve (vg, 0, 0, 8 * 65536, false, 1000, record, &r,
                           &unmapped) == 0);
  assert (r.n == 8 && unmapped == 0);
  for (i = 0; i < 8; ++i) {
    assert (r.pv[i] == want_pv[i]);
    assert (r.off[i] == (1 << 20) + want_row[i] * 65536);
  }
  /* The chunk budget stops a walk. */
  r.n = 0;
  assert (vbm_lvm_resolve (vg, 0, 0, 8 * 65536, false, 3, record, &r,
                           &unmapped) == 1);
  assert (r.n == 3 && unmapped == 5 * 65536);
  vbm_lvm_vg_free (vg);
}

/* raid0 and raid0_meta as lvm 2.03 writes them: a stripe_count, not a
 * device_count, and raid0's images in raid0_lvs (seen in the appliance
 * by test-lvm-kernel.sh).  Chunk c is on image c % 3, row c / 3.
 */
static void
test_raid0 (void)
{
  static const char text[] =
    "vg { id = \"ABCDEFGHIJKLMNOPQRSTUVWXYZ012345\" seqno = 1 "
    "extent_size = 512\n physical_volumes {\n" PV(0) PV(1) PV(2) "}\n"
    "logical_volumes {\n"
    "r { status = [\"VISIBLE\"] segment1 { start_extent = 0 "
    "extent_count = 6 type = \"raid0\" stripe_count = 3 stripe_size = 128 "
    "raid0_lvs = [\"r_rimage_0\", \"r_rimage_1\", \"r_rimage_2\"] } }\n"
    "m { status = [\"VISIBLE\"] segment1 { start_extent = 0 "
    "extent_count = 6 type = \"raid0_meta\" stripe_count = 3 "
    "stripe_size = 128 raids = [\"r_rmeta_0\", \"r_rimage_0\", "
    "\"r_rmeta_1\", \"r_rimage_1\", \"r_rmeta_2\", \"r_rimage_2\"] } }\n"
    "both { status = [\"VISIBLE\"] segment1 { start_extent = 0 "
    "extent_count = 6 type = \"raid0\" stripe_count = 3 device_count = 3 "
    "stripe_size = 128 raid0_lvs = [\"r_rimage_0\", \"r_rimage_1\", "
    "\"r_rimage_2\"] } }\n"
    IMG(0) IMG(1) IMG(2) "} }\n";
  struct vbm_lvm_vg *vg = vg_of (text);
  uint64_t unmapped = 0;
  unsigned lv, i;

  assert (vg->n_lvs == 9);
  for (lv = 0; lv < 2; ++lv) {
    struct rec r = { 0 };

    assert (!vg->lvs[lv].broken && vg->lvs[lv].n_segs == 1);
    assert (vbm_lvm_resolve (vg, lv, 0, 6 * 65536, false, 1000, record, &r,
                             &unmapped) == 0);
    assert (r.n == 6 && unmapped == 0);
    for (i = 0; i < 6; ++i) {
      assert (r.pv[i] == i % 3);
      assert (r.off[i] == (1 << 20) + (i / 3) * 65536);
    }
  }
  /* lvm refuses a segment with both counts; so do we. */
  assert (vg->lvs[2].n_segs == 0);
  vbm_lvm_vg_free (vg);
}

static void
test_hostile_vg (void)
{
  /* An LV that is its own stripe, a stripe count of 0 and of 2^31. */
  static const char text[] =
    "vg { id = \"ABCDEFGHIJKLMNOPQRSTUVWXYZ012345\" seqno = 1 "
    "extent_size = 512\n physical_volumes {\n" PV(0) "}\n"
    "logical_volumes {\n"
    "loop { segment1 { start_extent = 0 extent_count = 1 "
    "type = \"striped\" stripe_count = 1 stripes = [\"loop\", 0] } }\n"
    "zero { segment1 { start_extent = 0 extent_count = 1 "
    "type = \"striped\" stripe_count = 0 stripes = [] } }\n"
    "huge { segment1 { start_extent = 0 extent_count = 1 "
    "type = \"striped\" stripe_count = 2147483648 stripe_size = 128 "
    "stripes = [\"pv0\", 0] } }\n"
    "} }\n";
  struct vbm_lvm_vg *vg = vg_of (text);
  struct rec r = { 0 };
  uint64_t unmapped = 0;
  uint32_t i;

  assert (vg->n_lvs == 3);
  assert (vg->lvs[0].broken);
  assert (vg->lvs[1].n_segs == 0 && vg->lvs[2].n_segs == 0);
  for (i = 0; i < 3; ++i)
    assert (vbm_lvm_resolve (vg, i, 0, 65536, false, 1000, record, &r,
                             &unmapped) == 0);
  assert (r.n == 0);
  vbm_lvm_vg_free (vg);
}

int
main (void)
{
  test_text ();
  test_headers ();
  test_layout ();
  test_raid0 ();
  test_hostile_vg ();
  printf ("test-lvm: ok\n");
  return 0;
}
