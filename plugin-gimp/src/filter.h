/* filter.h — the non-destructive pertouch:retouch filter on a layer. */

#ifndef PERTOUCH_FILTER_H
#define PERTOUCH_FILTER_H

#include <libgimp/gimp.h>

/* The GEGL operation the filter runs (plugin-gimp/gegl/pertouch-retouch.c). */
#define PT_OPERATION "pertouch:retouch"
/* The name the filter shows in the layer's effects list. */
#define PT_FILTER_NAME "PerTouch"

/* The filter's settings. */
typedef struct
{
  gchar   *state;     /* region state JSON */
  gdouble  mix;
  gchar   *renderer;  /* "parametric" or "diffusion" */
} PtFilterSettings;

void                pt_filter_settings_clear (PtFilterSettings   *settings);

GimpDrawableFilter *pt_filter_find           (GimpDrawable       *drawable);
void                pt_filter_read           (GimpDrawableFilter *filter,
                                              PtFilterSettings   *settings);
GimpDrawableFilter *pt_filter_apply          (GimpDrawable       *drawable,
                                              GimpDrawableFilter *existing,
                                              const gchar        *state,
                                              gdouble             mix,
                                              const gchar        *renderer,
                                              GError            **error);

#endif /* PERTOUCH_FILTER_H */
