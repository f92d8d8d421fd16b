/* Partition table parsers (mbr.c, gpt.c).
 *
 * They are pure: they decode buffers the caller has read into structs
 * and check them, with no I/O and no mapping context, so that
 * tests/test-parttable.c can feed them hand-made and corrupt sectors.
 * volumes.c reads the sectors and turns the result into map objects.
 *
 * Conventions of the map (volumes.c):
 *  - The logical sector size, in which the tables count, is 512 or
 *    4096 (disks made for 4Kn drives), forced by the caller or
 *    detected.  GPT: the size at which the header at LBA 1 validates
 *    (CRC and my_lba), else the one at which the backup in the last
 *    sector does.  MBR: the table cannot tell, so 512 unless no
 *    partition starts with a filesystem or EBR at 512 while with
 *    4096 all fit the disk and one does (a guess, with a warning).
 *    MBR and EBR entries are always in the first 512 bytes of their
 *    sector; the table objects cover the whole sector.
 *  - Every 'p' object counts in stats->partitions: primaries,
 *    logicals, GPT partitions and the extended partition container
 *    itself (libguestfs lists it too).
 *  - The children of the disk and of each extended partition cover it
 *    exactly: tables as 'm' objects, partitions as 'p' objects, and
 *    whatever is left as '<unpartitioned>' 'u' objects (object_offset
 *    -1).  Overlapping partitions are mapped as the table gives them
 *    (with a warning); gaps never overlap anything.
 */
#ifndef VBM_PARTTABLE_H
#define VBM_PARTTABLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "virtbmap.h"

#define VBM_SECTOR_SIZE 512

static inline uint16_t
vbm_le16 (const unsigned char *p)
{
  return p[0] | (uint16_t) p[1] << 8;
}

static inline uint32_t
vbm_le32 (const unsigned char *p)
{
  return p[0] | (uint32_t) p[1] << 8 | (uint32_t) p[2] << 16 |
    (uint32_t) p[3] << 24;
}

static inline uint64_t
vbm_le64 (const unsigned char *p)
{
  return vbm_le32 (p) | (uint64_t) vbm_le32 (p + 4) << 32;
}

/* ---- MBR and EBR (mbr.c). ---- */

#define VBM_MBR_ENTRIES 4
#define VBM_MBR_TYPE_GPT 0xEE   /* protective MBR entry */

struct vbm_mbr_entry {
  uint8_t status;               /* 0x80 bootable, 0x00 not */
  uint8_t type;                 /* 0x83 Linux, 0x05 extended, ... */
  uint32_t start;               /* first LBA; relative in an EBR */
  uint32_t sectors;
};

struct vbm_mbr {
  struct vbm_mbr_entry entry[VBM_MBR_ENTRIES];
};

/* Decodes the entries of a 512-byte sector.  Returns -1 (err says
 * why) if the sector lacks the 0x55 0xAA signature.
 */
extern int vbm_mbr_parse (const unsigned char *sector, struct vbm_mbr *mbr,
                          struct vbm_error *err);

/* An entry that describes no partition: type 0 or no sectors. */
extern bool vbm_mbr_entry_empty (const struct vbm_mbr_entry *e);
/* Types 0x05, 0x0F, 0x85: a container of logical partitions. */
extern bool vbm_mbr_type_extended (uint8_t type);
/* An entry of type 0xEE: the disk has a GPT. */
extern bool vbm_mbr_protective (const struct vbm_mbr *mbr);

/* The boot sector of a FAT, exFAT or NTFS filesystem starting at the
 * beginning of the volume: it has the 0x55 0xAA signature too.
 */
extern bool vbm_fs_boot_sector (const unsigned char *sector);

/* Whether a parsed sector of a disk of disk_sectors sectors is really
 * a partition table: status bytes 0x00 or 0x80, not a filesystem boot
 * sector, and if any entry is used, at least one starting inside the
 * disk after sector 0.  Random boot code passes the status test with
 * a chance of about 1 in 2^28, so overlaps are not held against it.
 * Returns false with err saying why.
 */
extern bool vbm_mbr_plausible (const unsigned char *sector,
                               const struct vbm_mbr *mbr,
                               uint64_t disk_sectors, struct vbm_error *err);

/* An extended boot record: one logical partition (start relative to
 * the EBR) and a link to the next EBR (start relative to the
 * extended partition).
 */
struct vbm_ebr {
  bool has_logical;
  struct vbm_mbr_entry logical;
  bool has_next;
  struct vbm_mbr_entry next;
  unsigned ignored;             /* further used entries, ignored */
};

/* Returns -1 (err says why) if the sector has no signature. */
extern int vbm_ebr_parse (const unsigned char *sector, struct vbm_ebr *ebr,
                          struct vbm_error *err);

/* ---- GPT (gpt.c). ---- */

#define VBM_GPT_HEADER_MIN 92
#define VBM_GPT_ENTRY_MIN 128
/* Real tables have 128 entries of 128 bytes (16 KiB); more than this
 * is refused so a hostile header cannot make us allocate much.
 */
#define VBM_GPT_ARRAY_MAX (4 * 1024 * 1024)

struct vbm_gpt_header {
  uint32_t revision;
  uint32_t header_size;
  uint64_t my_lba;
  uint64_t alternate_lba;
  uint64_t first_usable;
  uint64_t last_usable;
  unsigned char disk_guid[16];
  uint64_t entries_lba;
  uint32_t num_entries;
  uint32_t entry_size;
  uint32_t entries_crc;
};

struct vbm_gpt_entry {
  unsigned char type_guid[16];
  unsigned char unique_guid[16];
  uint64_t first_lba;
  uint64_t last_lba;            /* inclusive */
  uint64_t attributes;
};

/* Decodes and checks the header in sector (sector_size bytes) that
 * was read at LBA lba of a disk of disk_sectors sectors: signature,
 * sizes, CRC, my_lba == lba, usable range and entry array inside the
 * disk and not over the header, array size bounded.  Returns -1 with
 * err saying why if anything is wrong.
 */
extern int vbm_gpt_parse_header (const unsigned char *sector,
                                 size_t sector_size, uint64_t lba,
                                 uint64_t disk_sectors,
                                 struct vbm_gpt_header *h,
                                 struct vbm_error *err);

/* Size of the entry array of a checked header, in bytes and in whole
 * sectors.
 */
extern size_t vbm_gpt_array_bytes (const struct vbm_gpt_header *h);
extern uint64_t vbm_gpt_array_sectors (const struct vbm_gpt_header *h,
                                       size_t sector_size);

/* Checks the CRC of the entry array (vbm_gpt_array_bytes long). */
extern int vbm_gpt_check_entries (const struct vbm_gpt_header *h,
                                  const unsigned char *array, size_t len,
                                  struct vbm_error *err);

/* Decodes entry i (< num_entries) of a checked array. */
extern void vbm_gpt_parse_entry (const struct vbm_gpt_header *h,
                                 const unsigned char *array, uint32_t i,
                                 struct vbm_gpt_entry *e);

/* An entry is used if its type GUID is not all zero. */
extern bool vbm_gpt_entry_used (const struct vbm_gpt_entry *e);

#endif /* VBM_PARTTABLE_H */
