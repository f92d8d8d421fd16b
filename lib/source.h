/* Constructors of the source formats (source-*.c). */
#ifndef VBM_SOURCE_H
#define VBM_SOURCE_H

#include <inttypes.h>
#include <stdlib.h>

#include "virtbmap.h"

extern struct vbm_source *vbm_source_open_raw (const char *path,
                                               struct vbm_error *err);

#endif /* VBM_SOURCE_H */
