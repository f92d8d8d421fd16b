/* ntfs-helper: builds NTFS test images through libntfs-3g, for what
 * the ntfsprogs command line tools cannot do.  Each command mounts the
 * image, makes one change and unmounts it.
 *
 *   ntfs-helper mkdir IMG PATH
 *   ntfs-helper cmkdir IMG PATH             files created in it are compressed
 *   ntfs-helper cp IMG SRC PATH[:STREAM]     file or named stream
 *   ntfs-helper link IMG PATH NEWPATH        hard link
 *   ntfs-helper frag IMG PATH1 PATH2 SRC CHUNK
 *       two files written in alternate CHUNK-byte pieces of SRC
 *       (both get SRC's content), so both are fragmented
 *   ntfs-helper sparse IMG PATH SRC OFFSET SIZE
 *       SRC written at OFFSET, the file extended to SIZE with a hole
 *   ntfs-helper stripes IMG PATH SRC CHUNK
 *       SRC's CHUNK-byte pieces written with a CHUNK-byte hole after
 *       each (piece i at 2*i*CHUNK): a sparse file with two runs per
 *       piece, enough of them to need several MFT records
 *   ntfs-helper links IMG PATH N
 *       N more hard links PATH-link-with-a-long-name-I in PATH's
 *       directory (their $FILE_NAMEs overflow the MFT record)
 *   ntfs-helper encrypt IMG PATH EFS
 *       flags PATH encrypted (FILE_ATTR_ENCRYPTED, ATTR_IS_ENCRYPTED
 *       on its $DATA attributes) and adds EFS's bytes as its
 *       $LOGGED_UTILITY_STREAM "$EFS"; the data is left as it is
 *   ntfs-helper rm IMG PATH
 *       deletes the file PATH (ntfs_delete: its MFT record is marked
 *       unused, its run list left in place, its clusters freed)
 *   ntfs-helper populate IMG N
 *       N files in directories of 200, of assorted small sizes (the
 *       benchmark image)
 */
#include <config.h>

/* System headers first: the ntfs-3g headers include them only if
 * config.h says they exist.
 */
#include <byteswap.h>
#include <endian.h>
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/param.h>
#include <sys/types.h>
#include <time.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <ntfs-3g/volume.h>
#include <ntfs-3g/attrib.h>
#include <ntfs-3g/dir.h>
#include <ntfs-3g/inode.h>
#include <ntfs-3g/unistr.h>

static ntfs_volume *vol;

static void
die (const char *what)
{
  fprintf (stderr, "ntfs-helper: %s: %s\n", what, strerror (errno));
  if (vol)
    ntfs_umount (vol, FALSE);
  exit (1);
}

static char *
read_file (const char *path, size_t *len)
{
  FILE *fp = fopen (path, "rb");
  char *buf;
  long n;

  if (fp == NULL || fseek (fp, 0, SEEK_END) == -1 || (n = ftell (fp)) < 0)
    die (path);
  rewind (fp);
  buf = malloc (n + 1);
  if (buf == NULL || fread (buf, 1, n, fp) != (size_t) n)
    die (path);
  fclose (fp);
  *len = n;
  return buf;
}

static int
to_ucs (const char *s, ntfschar **u)
{
  int n;

  *u = NULL;
  n = ntfs_mbstoucs (s, u);
  if (n < 0)
    die (s);
  return n;
}

/* Creates PATH (a file or directory), or opens it if it exists. */
static ntfs_inode *
create (const char *path, mode_t type)
{
  char *copy = strdup (path), *slash, *base;
  ntfs_inode *dir, *ni;
  ntfschar *u;
  int n;

  ni = ntfs_pathname_to_inode (vol, NULL, path);
  if (ni)
    return ni;
  if (copy == NULL || (slash = strrchr (copy, '/')) == NULL)
    die (path);
  *slash = '\0';
  base = slash + 1;
  dir = ntfs_pathname_to_inode (vol, NULL, *copy ? copy : "/");
  if (dir == NULL)
    die (copy);
  n = to_ucs (base, &u);
  ni = ntfs_create (dir, const_cpu_to_le32 (0), u, n, type);
  if (ni == NULL)
    die (path);
  ntfs_inode_close (dir);
  free (u);
  free (copy);
  return ni;
}

static ntfs_attr *
open_stream (ntfs_inode *ni, const char *stream)
{
  ntfschar *u = AT_UNNAMED;
  ntfs_attr *na;
  int n = 0;

  if (stream) {
    n = to_ucs (stream, &u);
    if (ntfs_attr_add (ni, AT_DATA, u, n, NULL, 0) == -1 && errno != EEXIST)
      die (stream);
  }
  na = ntfs_attr_open (ni, AT_DATA, u, n);
  if (na == NULL)
    die ("opening $DATA");
  return na;
}

static void
write_all (ntfs_attr *na, s64 pos, const char *buf, s64 len)
{
  while (len > 0) {
    s64 r = ntfs_attr_pwrite (na, pos, len, buf);

    if (r <= 0)
      die ("writing");
    pos += r;
    buf += r;
    len -= r;
  }
}

static ntfs_inode *
open_path (const char *path)
{
  ntfs_inode *ni = ntfs_pathname_to_inode (vol, NULL, path);

  if (ni == NULL)
    die (path);
  return ni;
}

static void
stripes (const char *path, const char *src, size_t chunk)
{
  size_t len, off;
  char *buf = read_file (src, &len);
  ntfs_inode *ni = create (path, S_IFREG);
  ntfs_attr *na = open_stream (ni, NULL);

  if (chunk == 0)
    die ("chunk");
  for (off = 0; off < len; off += chunk)
    write_all (na, 2 * off, buf + off, len - off < chunk ? len - off : chunk);
  ntfs_attr_close (na);
  ntfs_inode_close (ni);
  free (buf);
}

static void
links (const char *path, unsigned long n)
{
  char *copy = strdup (path), *slash = strrchr (copy, '/'), name[300];
  ntfs_inode *ni = open_path (path), *dir;
  unsigned long i;
  ntfschar *u;
  int len;

  if (slash == NULL)
    die (path);
  *slash = '\0';
  for (i = 1; i <= n; i++) {
    snprintf (name, sizeof name, "%s-link-with-a-long-name-%lu", slash + 1, i);
    dir = open_path (*copy ? copy : "/");
    len = to_ucs (name, &u);
    if (ntfs_link (ni, dir, u, len) == -1)
      die ("link");
    ntfs_inode_close (dir);
    free (u);
  }
  ntfs_inode_close (ni);
  free (copy);
}

static void
encrypt (const char *path, const char *efs)
{
  ntfs_inode *ni = open_path (path);
  ntfs_attr_search_ctx *ctx = ntfs_attr_get_search_ctx (ni, NULL);
  ntfschar *u;
  size_t len;
  char *buf;
  int n;

  if (ctx == NULL)
    die ("search context");
  while (ntfs_attrs_walk (ctx) == 0 && ctx->attr->type != AT_END) {
    if (ctx->attr->type == AT_DATA) {
      ctx->attr->flags |= ATTR_IS_ENCRYPTED;
      ntfs_inode_mark_dirty (ctx->ntfs_ino);
    }
  }
  ntfs_attr_put_search_ctx (ctx);
  ni->flags |= FILE_ATTR_ENCRYPTED;
  NInoSetDirty (ni);
  NInoFileNameSetDirty (ni);
  buf = read_file (efs, &len);
  n = to_ucs ("$EFS", &u);
  if (ntfs_attr_add (ni, AT_LOGGED_UTILITY_STREAM, u, n, (u8 *) buf, len)
      == -1)
    die ("adding $EFS");
  ntfs_inode_close (ni);
  free (u);
  free (buf);
}

static void
populate (unsigned long n)
{
  static char buf[16384];
  char path[64];
  unsigned long i;

  for (i = 0; i < n; i++) {
    size_t len = 0, reps = 1 + (i % 37) * (i % 11) * 3, r;
    ntfs_inode *ni;
    ntfs_attr *na;

    if (i % 200 == 0) {
      snprintf (path, sizeof path, "/d%04lu", i / 200);
      ntfs_inode_close (create (path, S_IFDIR));
    }
    for (r = 0; r < reps && len + 24 < sizeof buf; r++)
      len += snprintf (buf + len, sizeof buf - len, "%lu ", i);
    snprintf (path, sizeof path, "/d%04lu/f%06lu", i / 200, i);
    ni = create (path, S_IFREG);
    na = open_stream (ni, NULL);
    write_all (na, 0, buf, len);
    ntfs_attr_close (na);
    ntfs_inode_close (ni);
  }
}

int
main (int argc, char *argv[])
{
  const char *cmd = argc > 2 ? argv[1] : "";
  ntfs_inode *ni, *ni2, *dir;
  ntfs_attr *na, *na2;
  size_t len, off;
  char *buf;

  if (argc < 4) {
    fprintf (stderr, "usage: ntfs-helper CMD IMG ARGS... (see the source)\n");
    return 2;
  }
  vol = ntfs_mount (argv[2], NTFS_MNT_NONE);
  if (vol == NULL)
    die (argv[2]);

  if (strcmp (cmd, "mkdir") == 0 && argc == 4) {
    ni = create (argv[3], S_IFDIR);
    ntfs_inode_close (ni);
  }
  else if (strcmp (cmd, "cmkdir") == 0 && argc == 4) {
    ni = create (argv[3], S_IFDIR);
    ni->flags |= FILE_ATTR_COMPRESSED;
    NInoSetDirty (ni);
    ntfs_inode_close (ni);
  }
  else if (strcmp (cmd, "cp") == 0 && argc == 5) {
    char *path = strdup (argv[4]), *colon = strchr (path, ':');

    if (colon)
      *colon++ = '\0';
    buf = read_file (argv[3], &len);
    ni = create (path, S_IFREG);
    na = open_stream (ni, colon);
    write_all (na, 0, buf, len);
    ntfs_attr_close (na);
    ntfs_inode_close (ni);
    free (buf);
    free (path);
  }
  else if (strcmp (cmd, "link") == 0 && argc == 5) {
    char *copy = strdup (argv[4]), *slash = strrchr (copy, '/');
    ntfschar *u;
    int n;

    ni = ntfs_pathname_to_inode (vol, NULL, argv[3]);
    if (ni == NULL || slash == NULL)
      die (argv[3]);
    *slash = '\0';
    dir = ntfs_pathname_to_inode (vol, NULL, *copy ? copy : "/");
    if (dir == NULL)
      die (argv[4]);
    n = to_ucs (slash + 1, &u);
    if (ntfs_link (ni, dir, u, n) == -1)
      die ("link");
    ntfs_inode_close (dir);
    ntfs_inode_close (ni);
    free (u);
    free (copy);
  }
  else if (strcmp (cmd, "rm") == 0 && argc == 4) {
    char *copy = strdup (argv[3]), *slash = strrchr (copy, '/');
    ntfschar *u;
    int n;

    ni = ntfs_pathname_to_inode (vol, NULL, argv[3]);
    if (ni == NULL || slash == NULL)
      die (argv[3]);
    *slash = '\0';
    dir = ntfs_pathname_to_inode (vol, NULL, *copy ? copy : "/");
    if (dir == NULL)
      die (argv[3]);
    n = to_ucs (slash + 1, &u);
    /* Closes both inodes. */
    if (ntfs_delete (vol, argv[3], ni, dir, u, n) == -1)
      die ("delete");
    free (u);
    free (copy);
  }
  else if (strcmp (cmd, "frag") == 0 && argc == 7) {
    size_t chunk = strtoul (argv[6], NULL, 0);

    buf = read_file (argv[5], &len);
    if (chunk == 0)
      die ("chunk");
    ni = create (argv[3], S_IFREG);
    ni2 = create (argv[4], S_IFREG);
    na = open_stream (ni, NULL);
    na2 = open_stream (ni2, NULL);
    for (off = 0; off < len; off += chunk) {
      size_t n = len - off < chunk ? len - off : chunk;

      write_all (na, off, buf + off, n);
      write_all (na2, off, buf + off, n);
    }
    ntfs_attr_close (na);
    ntfs_attr_close (na2);
    ntfs_inode_close (ni);
    ntfs_inode_close (ni2);
    free (buf);
  }
  else if (strcmp (cmd, "sparse") == 0 && argc == 7) {
    s64 offset = strtoll (argv[5], NULL, 0), size = strtoll (argv[6], NULL, 0);

    buf = read_file (argv[4], &len);
    ni = create (argv[3], S_IFREG);
    na = open_stream (ni, NULL);
    write_all (na, offset, buf, len);
    if (ntfs_attr_truncate (na, size) == -1)
      die ("truncate");
    ntfs_attr_close (na);
    ntfs_inode_close (ni);
    free (buf);
  }
  else if (strcmp (cmd, "stripes") == 0 && argc == 6)
    stripes (argv[3], argv[4], strtoul (argv[5], NULL, 0));
  else if (strcmp (cmd, "links") == 0 && argc == 5)
    links (argv[3], strtoul (argv[4], NULL, 0));
  else if (strcmp (cmd, "encrypt") == 0 && argc == 5)
    encrypt (argv[3], argv[4]);
  else if (strcmp (cmd, "populate") == 0 && argc == 4)
    populate (strtoul (argv[3], NULL, 0));
  else {
    fprintf (stderr, "ntfs-helper: bad command or arguments\n");
    ntfs_umount (vol, FALSE);
    return 2;
  }
  if (ntfs_umount (vol, FALSE) == -1)
    die ("umount");
  return 0;
}
