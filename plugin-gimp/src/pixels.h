/* pixels.h — a layer's pixels handed to libpertouch, and destructive renders
 * written back through GIMP's shadow buffer (which honours the selection). */

#ifndef PERTOUCH_PIXELS_H
#define PERTOUCH_PIXELS_H

#include <libgimp/gimp.h>

#include "pertouch-work.h"

#define PT_ERROR (pt_error_quark ())
GQuark pt_error_quark (void);

/* A whole drawable (or a scaled copy of it) in libpertouch's working format. */
typedef struct
{
  PertouchWork work;
  gint         width;
  gint         height;
  gsize        stride;
  guchar      *data;
} PtFrame;

gboolean pt_frame_read          (GimpDrawable  *drawable,
                                 gint           max_side,
                                 PtFrame       *frame,
                                 GError       **error);
void     pt_frame_clear         (PtFrame       *frame);
PtImage  pt_frame_image         (const PtFrame *frame);

gboolean pt_render_to_drawable  (PtEngine      *engine,
                                 const PtFrame *source,
                                 const gchar   *state_json,
                                 gdouble        mix,
                                 GimpDrawable  *target,
                                 GError       **error);

gboolean pt_render_frame        (PtEngine      *engine,
                                 const PtFrame *source,
                                 const gchar   *state_json,
                                 gdouble        mix,
                                 PtFrame       *out,
                                 GError       **error);

#endif /* PERTOUCH_PIXELS_H */
