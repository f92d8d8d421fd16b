/* Unit tests of the partition table parsers and the CRC-32, on
 * hand-made sectors, valid and corrupt.
 */
#include <config.h>

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crc32.h"
#include "internal.h"
#include "parttable.h"

static unsigned failures;

#define CHECK(cond)                                                     \
  do {                                                                  \
    if (!(cond)) {                                                      \
      fprintf (stderr, "%s:%d: check failed: %s\n",                     \
               __FILE__, __LINE__, #cond);                              \
      failures++;                                                       \
    }                                                                   \
  } while (0)

static void
put_le32 (unsigned char *p, uint32_t v)
{
  p[0] = v;
  p[1] = v >> 8;
  p[2] = v >> 16;
  p[3] = v >> 24;
}

static void
put_le64 (unsigned char *p, uint64_t v)
{
  put_le32 (p, v);
  put_le32 (p + 4, v >> 32);
}

/* ---- CRC-32. ---- */

static void
test_crc32 (void)
{
  const char *s = "123456789";
  unsigned char zeroes[32] = { 0 };

  CHECK (vbm_crc32 (0, s, 9) == 0xCBF43926);
  /* Feeding it in pieces gives the same result. */
  CHECK (vbm_crc32 (vbm_crc32 (0, s, 4), s + 4, 5) == 0xCBF43926);
  CHECK (vbm_crc32 (0, s, 0) == 0);
  CHECK (vbm_crc32 (0, "a", 1) == 0xE8B7BE43);
  CHECK (vbm_crc32 (0, zeroes, sizeof zeroes) == 0x190A55AD);
}

/* ---- MBR. ---- */

static void
set_entry (unsigned char *sector, int i, uint8_t status, uint8_t type,
           uint32_t start, uint32_t sectors)
{
  unsigned char *p = sector + 446 + 16 * i;

  p[0] = status;
  p[4] = type;
  put_le32 (p + 8, start);
  put_le32 (p + 12, sectors);
}

static void
sign (unsigned char *sector)
{
  sector[510] = 0x55;
  sector[511] = 0xAA;
}

static void
test_mbr (void)
{
  unsigned char s[512];
  struct vbm_mbr mbr;
  struct vbm_error err;
  const uint64_t disk = 40960;

  /* Two primaries and an extended partition. */
  memset (s, 0, sizeof s);
  set_entry (s, 0, 0x80, 0x83, 2048, 4096);
  set_entry (s, 1, 0x00, 0x83, 6144, 4096);
  set_entry (s, 2, 0x00, 0x05, 10240, 30720);
  CHECK (vbm_mbr_parse (s, &mbr, &err) == -1);  /* no signature yet */
  sign (s);
  CHECK (vbm_mbr_parse (s, &mbr, &err) == 0);
  CHECK (mbr.entry[0].status == 0x80);
  CHECK (mbr.entry[0].type == 0x83);
  CHECK (mbr.entry[0].start == 2048 && mbr.entry[0].sectors == 4096);
  CHECK (mbr.entry[2].start == 10240 && mbr.entry[2].sectors == 30720);
  CHECK (!vbm_mbr_entry_empty (&mbr.entry[0]));
  CHECK (vbm_mbr_entry_empty (&mbr.entry[3]));
  CHECK (vbm_mbr_type_extended (mbr.entry[2].type));
  CHECK (!vbm_mbr_type_extended (mbr.entry[0].type));
  CHECK (vbm_mbr_type_extended (0x0F) && vbm_mbr_type_extended (0x85));
  CHECK (!vbm_mbr_protective (&mbr));
  CHECK (vbm_mbr_plausible (s, &mbr, disk, &err));

  /* A partition past the end is still a table if another starts
   * inside; a table where none does is not.
   */
  set_entry (s, 1, 0x00, 0x83, 6144, 1000000);
  CHECK (vbm_mbr_parse (s, &mbr, &err) == 0);
  CHECK (vbm_mbr_plausible (s, &mbr, disk, &err));
  memset (s + 446, 0, 64);
  set_entry (s, 0, 0x00, 0x83, 50000, 100);
  set_entry (s, 1, 0x00, 0x83, 0, 100);
  CHECK (vbm_mbr_parse (s, &mbr, &err) == 0);
  CHECK (!vbm_mbr_plausible (s, &mbr, disk, &err));

  /* Boot code in the entries: bad status bytes. */
  memset (s + 446, 0, 64);
  set_entry (s, 0, 0x00, 0x83, 2048, 4096);
  s[446 + 16] = 0x12;
  CHECK (vbm_mbr_parse (s, &mbr, &err) == 0);
  CHECK (!vbm_mbr_plausible (s, &mbr, disk, &err));
  CHECK (strstr (err.msg, "status") != NULL);

  /* An empty table is a table. */
  memset (s, 0, sizeof s);
  sign (s);
  CHECK (vbm_mbr_parse (s, &mbr, &err) == 0);
  CHECK (vbm_mbr_plausible (s, &mbr, disk, &err));

  /* Protective MBR. */
  set_entry (s, 0, 0x00, 0xEE, 1, disk - 1);
  CHECK (vbm_mbr_parse (s, &mbr, &err) == 0);
  CHECK (vbm_mbr_protective (&mbr));
}

static void
test_boot_sectors (void)
{
  unsigned char s[512];
  struct vbm_mbr mbr;
  struct vbm_error err;

  /* A FAT boot sector as mkfs.fat writes it: entry area zero. */
  memset (s, 0, sizeof s);
  s[0] = 0xEB; s[1] = 0x3C; s[2] = 0x90;
  memcpy (s + 3, "mkfs.fat", 8);
  s[11] = 0x00; s[12] = 0x02;   /* 512 bytes per sector */
  s[13] = 4;                    /* sectors per cluster */
  s[14] = 4;                    /* reserved sectors */
  s[16] = 2;                    /* FATs */
  s[21] = 0xF8;                 /* media */
  memcpy (s + 54, "FAT16   ", 8);
  sign (s);
  CHECK (vbm_fs_boot_sector (s));
  CHECK (vbm_mbr_parse (s, &mbr, &err) == 0);
  CHECK (!vbm_mbr_plausible (s, &mbr, 40960, &err));

  /* The same with a bad BPB is not FAT. */
  s[16] = 7;
  CHECK (!vbm_fs_boot_sector (s));

  /* NTFS and exFAT by their OEM names. */
  memset (s, 0, sizeof s);
  s[0] = 0xEB; s[1] = 0x52; s[2] = 0x90;
  memcpy (s + 3, "NTFS    ", 8);
  sign (s);
  CHECK (vbm_fs_boot_sector (s));
  CHECK (vbm_mbr_parse (s, &mbr, &err) == 0);
  CHECK (!vbm_mbr_plausible (s, &mbr, 40960, &err));
  memcpy (s + 3, "EXFAT   ", 8);
  CHECK (vbm_fs_boot_sector (s));

  /* A GRUB-style MBR: jump, but a zero BPB. */
  memset (s, 0, sizeof s);
  s[0] = 0xEB; s[1] = 0x63; s[2] = 0x90;
  set_entry (s, 0, 0x80, 0x83, 2048, 4096);
  sign (s);
  CHECK (!vbm_fs_boot_sector (s));
  CHECK (vbm_mbr_parse (s, &mbr, &err) == 0);
  CHECK (vbm_mbr_plausible (s, &mbr, 40960, &err));
}

static void
test_ebr (void)
{
  unsigned char s[512];
  struct vbm_ebr ebr;
  struct vbm_error err;

  memset (s, 0, sizeof s);
  set_entry (s, 0, 0, 0x83, 2048, 6144);
  set_entry (s, 1, 0, 0x05, 8192, 8192);
  CHECK (vbm_ebr_parse (s, &ebr, &err) == -1);
  sign (s);
  CHECK (vbm_ebr_parse (s, &ebr, &err) == 0);
  CHECK (ebr.has_logical && ebr.logical.start == 2048 &&
         ebr.logical.sectors == 6144);
  CHECK (ebr.has_next && ebr.next.start == 8192);
  CHECK (ebr.ignored == 0);

  /* Last EBR: no link. */
  memset (s + 446 + 16, 0, 16);
  CHECK (vbm_ebr_parse (s, &ebr, &err) == 0);
  CHECK (ebr.has_logical && !ebr.has_next);

  /* Link in entry 1 and logical in entry 2, plus junk. */
  memset (s + 446, 0, 64);
  set_entry (s, 0, 0, 0x0F, 100, 10);
  set_entry (s, 1, 0, 0x83, 1, 50);
  set_entry (s, 2, 0, 0x83, 60, 50);
  set_entry (s, 3, 0, 0x05, 200, 10);
  CHECK (vbm_ebr_parse (s, &ebr, &err) == 0);
  CHECK (ebr.has_next && ebr.next.start == 100);
  CHECK (ebr.has_logical && ebr.logical.start == 1);
  CHECK (ebr.ignored == 2);

  /* An empty EBR. */
  memset (s + 446, 0, 64);
  CHECK (vbm_ebr_parse (s, &ebr, &err) == 0);
  CHECK (!ebr.has_logical && !ebr.has_next);
}

/* ---- GPT. ---- */

#define DISK_SECTORS 40960
#define NUM_ENTRIES 128
#define ENTRY_SIZE 128
#define ARRAY_BYTES (NUM_ENTRIES * ENTRY_SIZE)

static const unsigned char linux_guid[16] = {
  0xAF, 0x3D, 0xC6, 0x0F, 0x83, 0x84, 0x72, 0x47,
  0x8E, 0x79, 0x3D, 0x69, 0xD8, 0x47, 0x7D, 0xE4,
};

static void
header_fix_crc (unsigned char *h)
{
  put_le32 (h + 16, 0);
  put_le32 (h + 16, vbm_crc32 (0, h, 92));
}

/* A header at lba with its array at entries_lba, CRCs filled in. */
static void
make_gpt (unsigned char *h, unsigned char *array, uint64_t lba,
          uint64_t alternate, uint64_t entries_lba)
{
  memset (h, 0, 512);
  memset (array, 0, ARRAY_BYTES);
  memcpy (array, linux_guid, 16);
  array[16] = 1;
  put_le64 (array + 32, 2048);
  put_le64 (array + 40, 6143);
  memcpy (array + 2 * ENTRY_SIZE, linux_guid, 16);
  put_le64 (array + 2 * ENTRY_SIZE + 32, 6144);
  put_le64 (array + 2 * ENTRY_SIZE + 40, 12287);

  memcpy (h, "EFI PART", 8);
  put_le32 (h + 8, 0x00010000);
  put_le32 (h + 12, 92);
  put_le64 (h + 24, lba);
  put_le64 (h + 32, alternate);
  put_le64 (h + 40, 34);
  put_le64 (h + 48, DISK_SECTORS - 34);
  h[56] = 0x42;
  put_le64 (h + 72, entries_lba);
  put_le32 (h + 80, NUM_ENTRIES);
  put_le32 (h + 84, ENTRY_SIZE);
  put_le32 (h + 88, vbm_crc32 (0, array, ARRAY_BYTES));
  header_fix_crc (h);
}

/* Parses h as the primary header. */
static int
parse (const unsigned char *h, struct vbm_gpt_header *gh,
       struct vbm_error *err)
{
  return vbm_gpt_parse_header (h, 512, 1, DISK_SECTORS, gh, err);
}

static void
test_gpt (void)
{
  static unsigned char h[512], array[ARRAY_BYTES];
  struct vbm_gpt_header gh;
  struct vbm_gpt_entry e;
  struct vbm_error err;

  make_gpt (h, array, 1, DISK_SECTORS - 1, 2);
  CHECK (parse (h, &gh, &err) == 0);
  CHECK (gh.my_lba == 1 && gh.alternate_lba == DISK_SECTORS - 1);
  CHECK (gh.first_usable == 34 && gh.last_usable == DISK_SECTORS - 34);
  CHECK (gh.entries_lba == 2);
  CHECK (gh.num_entries == NUM_ENTRIES && gh.entry_size == ENTRY_SIZE);
  CHECK (gh.disk_guid[0] == 0x42);
  CHECK (vbm_gpt_array_bytes (&gh) == ARRAY_BYTES);
  CHECK (vbm_gpt_array_sectors (&gh, 512) == 32);
  CHECK (vbm_gpt_array_sectors (&gh, 4096) == 4);
  CHECK (vbm_gpt_check_entries (&gh, array, sizeof array, &err) == 0);
  CHECK (vbm_gpt_check_entries (&gh, array, 100, &err) == -1);

  vbm_gpt_parse_entry (&gh, array, 0, &e);
  CHECK (vbm_gpt_entry_used (&e));
  CHECK (e.first_lba == 2048 && e.last_lba == 6143);
  CHECK (e.unique_guid[0] == 1);
  vbm_gpt_parse_entry (&gh, array, 1, &e);
  CHECK (!vbm_gpt_entry_used (&e));
  vbm_gpt_parse_entry (&gh, array, 2, &e);
  CHECK (vbm_gpt_entry_used (&e));
  CHECK (e.first_lba == 6144 && e.last_lba == 12287);

  /* The backup, read where it is. */
  make_gpt (h, array, DISK_SECTORS - 1, 1, DISK_SECTORS - 33);
  CHECK (vbm_gpt_parse_header (h, 512, DISK_SECTORS - 1, DISK_SECTORS,
                               &gh, &err) == 0);
  /* ... but not somewhere else. */
  CHECK (parse (h, &gh, &err) == -1);
  CHECK (strstr (err.msg, "says it is at") != NULL);

  /* A corrupt entry array. */
  make_gpt (h, array, 1, DISK_SECTORS - 1, 2);
  CHECK (parse (h, &gh, &err) == 0);
  array[40] ^= 1;
  CHECK (vbm_gpt_check_entries (&gh, array, sizeof array, &err) == -1);
  CHECK (strstr (err.msg, "CRC") != NULL);

  /* One flipped byte anywhere in the header is caught by its CRC. */
  make_gpt (h, array, 1, DISK_SECTORS - 1, 2);
  h[50] ^= 0x80;
  CHECK (parse (h, &gh, &err) == -1);
  CHECK (strstr (err.msg, "CRC") != NULL);

  /* No signature. */
  make_gpt (h, array, 1, DISK_SECTORS - 1, 2);
  h[0] = 'X';
  CHECK (parse (h, &gh, &err) == -1);

  /* Header sizes: too small, bigger than the sector. */
  make_gpt (h, array, 1, DISK_SECTORS - 1, 2);
  put_le32 (h + 12, 91);
  header_fix_crc (h);
  CHECK (parse (h, &gh, &err) == -1);
  put_le32 (h + 12, 513);
  CHECK (parse (h, &gh, &err) == -1);

  /* Entry sizes: too small, not a multiple of 8. */
  make_gpt (h, array, 1, DISK_SECTORS - 1, 2);
  put_le32 (h + 84, 64);
  header_fix_crc (h);
  CHECK (parse (h, &gh, &err) == -1);
  put_le32 (h + 84, 132);
  header_fix_crc (h);
  CHECK (parse (h, &gh, &err) == -1);
  put_le32 (h + 84, 0xFFFFFFF8);
  header_fix_crc (h);
  CHECK (parse (h, &gh, &err) == -1);

  /* A huge number of entries. */
  make_gpt (h, array, 1, DISK_SECTORS - 1, 2);
  put_le32 (h + 80, 0x80000000);
  header_fix_crc (h);
  CHECK (parse (h, &gh, &err) == -1);
  CHECK (strstr (err.msg, "entry array") != NULL);

  /* Usable range past the end of the disk, or inverted. */
  make_gpt (h, array, 1, DISK_SECTORS - 1, 2);
  put_le64 (h + 48, DISK_SECTORS);
  header_fix_crc (h);
  CHECK (parse (h, &gh, &err) == -1);
  put_le64 (h + 40, 1000);
  put_le64 (h + 48, 999);
  header_fix_crc (h);
  CHECK (parse (h, &gh, &err) == -1);

  /* Entry array beyond the end, overflowing, at LBA 0, over the
   * header.
   */
  make_gpt (h, array, 1, DISK_SECTORS - 1, 2);
  put_le64 (h + 72, DISK_SECTORS - 10);
  header_fix_crc (h);
  CHECK (parse (h, &gh, &err) == -1);
  put_le64 (h + 72, UINT64_MAX - 3);
  header_fix_crc (h);
  CHECK (parse (h, &gh, &err) == -1);
  put_le64 (h + 72, 0);
  header_fix_crc (h);
  CHECK (parse (h, &gh, &err) == -1);
  put_le64 (h + 72, 1);
  header_fix_crc (h);
  CHECK (parse (h, &gh, &err) == -1);
  CHECK (strstr (err.msg, "over the header") != NULL);

  /* Zero entries is odd but harmless. */
  make_gpt (h, array, 1, DISK_SECTORS - 1, 2);
  put_le32 (h + 80, 0);
  put_le32 (h + 88, 0);
  header_fix_crc (h);
  CHECK (parse (h, &gh, &err) == 0);
  CHECK (vbm_gpt_array_bytes (&gh) == 0);
  CHECK (vbm_gpt_check_entries (&gh, array, 0, &err) == 0);

  /* Sector sizes. */
  make_gpt (h, array, 1, DISK_SECTORS - 1, 2);
  CHECK (vbm_gpt_parse_header (h, 256, 1, DISK_SECTORS, &gh, &err) == -1);
}

int
main (void)
{
  test_crc32 ();
  test_mbr ();
  test_boot_sectors ();
  test_ebr ();
  test_gpt ();
  if (failures > 0) {
    fprintf (stderr, "%u checks failed\n", failures);
    exit (EXIT_FAILURE);
  }
  printf ("all checks passed\n");
  exit (EXIT_SUCCESS);
}
