/* The map file's SQLite schema, version 1.  Documented in
 * libvirtbmap(3); bump VBM_SCHEMA_VERSION on any incompatible change.
 *
 * Disk offsets are bytes, ranges are [start, end).
 */
#ifndef VBM_SCHEMA_H
#define VBM_SCHEMA_H

#define VBM_SCHEMA_TABLES \
  "CREATE TABLE meta (\n" \
  "  key TEXT PRIMARY KEY,\n" \
  "  value TEXT NOT NULL);\n" \
  "CREATE TABLE disks (\n" \
  "  disk INTEGER PRIMARY KEY,      -- 0 for the first disk\n" \
  "  device TEXT NOT NULL,          -- /dev/sda\n" \
  "  path TEXT NOT NULL,            -- image as given\n" \
  "  format TEXT NOT NULL,\n" \
  "  size INTEGER NOT NULL,         -- bytes\n" \
  "  mtime INTEGER);                -- seconds since the epoch\n" \
  "CREATE TABLE objects (\n" \
  "  id INTEGER PRIMARY KEY,\n" \
  "  parent INTEGER REFERENCES objects (id),\n" \
  "  disk INTEGER NOT NULL REFERENCES disks (disk),\n" \
  "  kind TEXT NOT NULL,            -- v p l m d f u\n" \
  "  device TEXT NOT NULL,\n" \
  "  path TEXT,                     -- first name, or a <description>\n" \
  "  inode INTEGER NOT NULL,\n" \
  "  size INTEGER NOT NULL,\n" \
  "  flags INTEGER NOT NULL,\n" \
  "  fstype TEXT);\n" \
  "CREATE TABLE names (             -- further hard-link names\n" \
  "  object INTEGER NOT NULL REFERENCES objects (id),\n" \
  "  path TEXT NOT NULL);\n" \
  "CREATE TABLE extents (\n" \
  "  id INTEGER PRIMARY KEY,\n" \
  "  object INTEGER NOT NULL REFERENCES objects (id),\n" \
  "  disk INTEGER NOT NULL,\n" \
  "  start INTEGER NOT NULL,\n" \
  "  end INTEGER NOT NULL,\n" \
  "  offset INTEGER,                -- inside the object, NULL if none\n" \
  "  flags INTEGER NOT NULL);\n" \
  "CREATE TABLE warnings (\n" \
  "  disk INTEGER NOT NULL,\n" \
  "  message TEXT NOT NULL);\n"

/* Only in maps built with hashes (vbm_build_set_hashes), so version 1
 * still: a reader that does not know the table ignores it, and a map
 * without it has no hashes.  One row per regular file.
 */
#define VBM_SCHEMA_HASHES \
  "CREATE TABLE hashes (\n" \
  "  object INTEGER PRIMARY KEY REFERENCES objects (id),\n" \
  "  md5 TEXT,                      -- lowercase hex, NULL if not asked\n" \
  "  sha1 TEXT,\n" \
  "  sha256 TEXT,\n" \
  "  not_hashed TEXT);              -- why not (compressed, ...), or NULL\n"

#define VBM_SCHEMA_INDEXES \
  "CREATE INDEX extents_object ON extents (object, offset);\n" \
  "CREATE INDEX objects_path ON objects (device, path);\n" \
  "CREATE INDEX names_path ON names (path);\n"

/* The R*Tree stores 32-bit floats, rounded outwards, so a query on it
 * returns a superset that is filtered on the exact extents columns.
 * store.c writes its shadow tables directly (rtree-write.c).
 */
#define VBM_RTREE "extents_rtree"
#define VBM_RTREE_CREATE \
  "CREATE VIRTUAL TABLE " VBM_RTREE " USING rtree (id, disk_lo, disk_hi, start, end);\n"

#endif /* VBM_SCHEMA_H */
