/* filter.c — finding, creating and updating the layer's PerTouch filter.
 *
 * GIMP 3.0 runs non-destructive filters in its own process, and only GEGL
 * operations can be such filters, so the plug-in hands the edit to
 * pertouch:retouch as its properties (state, mix, renderer). A filter appended
 * while a selection is active keeps that selection as its mask, through XCF
 * saves too. One PerTouch filter per layer: calling the plug-in again edits it. */

#include "filter.h"
#include "pixels.h"

void
pt_filter_settings_clear (PtFilterSettings *settings)
{
  g_clear_pointer (&settings->state, g_free);
  g_clear_pointer (&settings->renderer, g_free);
}

GimpDrawableFilter *
pt_filter_find (GimpDrawable *drawable)
{
  GimpDrawableFilter **filters = gimp_drawable_get_filters (drawable);
  GimpDrawableFilter  *found = NULL;
  gint                 i;

  for (i = 0; filters && filters[i]; i++)
    {
      gchar *op = gimp_drawable_filter_get_operation_name (filters[i]);

      /* The topmost one, if a user stacked several. */
      if (! found && g_strcmp0 (op, PT_OPERATION) == 0)
        found = filters[i];
      g_free (op);
    }
  g_free (filters);
  return found;
}

void
pt_filter_read (GimpDrawableFilter *filter,
                PtFilterSettings   *settings)
{
  GimpDrawableFilterConfig *config = gimp_drawable_filter_get_config (filter);

  g_object_get (config,
                "state",    &settings->state,
                "mix",      &settings->mix,
                "renderer", &settings->renderer,
                NULL);
}

GimpDrawableFilter *
pt_filter_apply (GimpDrawable       *drawable,
                 GimpDrawableFilter *existing,
                 const gchar        *state,
                 gdouble             mix,
                 const gchar        *renderer,
                 GError            **error)
{
  GimpDrawableFilter       *filter = existing;
  GimpDrawableFilterConfig *config;

  if (! filter)
    {
      filter = gimp_drawable_filter_new (drawable, PT_OPERATION, PT_FILTER_NAME);
      if (! filter)
        {
          g_set_error (error, PT_ERROR, 0,
                       "GIMP could not create the %s filter (%s). Is the GEGL "
                       "operation installed? build/gimp-plugin.sh --install puts it in "
                       "the GEGL plug-in folder; or choose apply-as \"new-layer\", "
                       "which does not need it.",
                       PT_OPERATION,
                       gimp_pdb_get_last_error (gimp_get_pdb ()));
          return NULL;
        }
    }
  config = gimp_drawable_filter_get_config (filter);
  g_object_set (config,
                "state",    state,
                "mix",      mix,
                "renderer", renderer,
                NULL);
  gimp_drawable_filter_update (filter);
  if (! existing)
    gimp_drawable_append_filter (drawable, filter);
  if (! existing && ! pt_filter_find (drawable))
    {
      g_set_error (error, PT_ERROR, 0, "GIMP refused the %s filter on this layer: %s",
                   PT_OPERATION, gimp_pdb_get_last_error (gimp_get_pdb ()));
      return NULL;
    }
  return filter;
}
