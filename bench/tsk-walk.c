/* tsk-walk IMAGE: what any mapper over libtsk pays at least on a FAT
 * or exFAT image: tsk_fs_dir_walk over every name, live and deleted,
 * with each entry's metadata (what the walk loads itself), and each
 * live file's cluster runs (tsk_fs_file_attr_get), as virt-bmap asks
 * for them; nothing is kept.  Prints the numbers of names and runs.
 * Built and run by bench/fat-bench, beside virt-bmap.
 */
#include <stdio.h>

#include <tsk/libtsk.h>

struct counts {
  unsigned long names, runs;
};

static TSK_WALK_RET_ENUM
visit (TSK_FS_FILE *f, const char *parent __attribute__ ((unused)),
       void *opaque)
{
  struct counts *c = opaque;
  const TSK_FS_ATTR *a;
  const TSK_FS_ATTR_RUN *r;

  c->names++;
  if (f->name == NULL || f->meta == NULL ||
      !(f->name->flags & TSK_FS_NAME_FLAG_ALLOC))
    return TSK_WALK_CONT;
  a = tsk_fs_file_attr_get (f);
  if (a && (a->flags & TSK_FS_ATTR_NONRES))
    for (r = a->nrd.run; r; r = r->next)
      c->runs++;
  tsk_error_reset ();
  return TSK_WALK_CONT;
}

int
main (int argc, char *argv[])
{
  struct counts c = { 0, 0 };
  TSK_IMG_INFO *img;
  TSK_FS_INFO *fs;

  if (argc != 2) {
    fprintf (stderr, "usage: tsk-walk IMAGE\n");
    return 2;
  }
  img = tsk_img_open_sing (argv[1], TSK_IMG_TYPE_RAW, 0);
  fs = img ? tsk_fs_open_img (img, 0, TSK_FS_TYPE_DETECT) : NULL;
  if (fs == NULL) {
    fprintf (stderr, "tsk-walk: %s: %s\n", argv[1], tsk_error_get ());
    return 1;
  }
  if (tsk_fs_dir_walk (fs, fs->root_inum,
                       TSK_FS_DIR_WALK_FLAG_ALLOC |
                       TSK_FS_DIR_WALK_FLAG_UNALLOC |
                       TSK_FS_DIR_WALK_FLAG_RECURSE |
                       TSK_FS_DIR_WALK_FLAG_NOORPHAN, visit, &c))
    fprintf (stderr, "tsk-walk: %s\n", tsk_error_get ());
  printf ("%lu names, %lu runs\n", c.names, c.runs);
  tsk_fs_close (fs);
  tsk_img_close (img);
  return 0;
}
