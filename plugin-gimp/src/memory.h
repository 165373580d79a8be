/* memory.h — PerTouch's preference memory under the host profile "gimp". */

#ifndef PERTOUCH_MEMORY_H
#define PERTOUCH_MEMORY_H

#include "pixels.h"

/* The host profile GIMP's edits are remembered under. */
#define PT_MEMORY_PROFILE "gimp"

gboolean pertouch_memory_recall   (const PtFrame *frame,
                             const gchar   *base_state,
                             gchar        **state,
                             gchar        **note,
                             GError       **error);
gboolean pertouch_memory_remember (const PtFrame *frame,
                             const gchar   *instruction,
                             const gchar   *state,
                             gchar        **note,
                             GError       **error);

#endif /* PERTOUCH_MEMORY_H */
