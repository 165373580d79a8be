/* pixels.c — reading layers for libpertouch and writing destructive renders.
 *
 * Segmentation and measurement need the whole layer, so a layer is always read
 * whole (in the working format of pertouch-work.h); a destructive render then
 * covers the selection's bounding box only, written into the shadow buffer in
 * strips of rows, and gimp_drawable_merge_shadow blends it in through the
 * selection (a feathered selection blends softly) as one undo step. Progress is
 * reported between strips, from this thread only: libgimp's wire is not
 * thread-safe, and libpertouch may call its own progress from worker threads. */

#include "pixels.h"

#include <libgimp/gimpui.h>

G_DEFINE_QUARK (pertouch-error-quark, pt_error)

/* libpertouch's message for the last failed call, as a GError. */
static void
set_pt_error (GError     **error,
              const gchar *what)
{
  g_set_error (error, PT_ERROR, 0, "%s: %s", what, pt_last_error ());
}

gboolean
pt_frame_read (GimpDrawable  *drawable,
               gint           max_side,
               PtFrame       *frame,
               GError       **error)
{
  GeglBuffer *buffer;
  gint        w = gimp_drawable_get_width (drawable);
  gint        h = gimp_drawable_get_height (drawable);
  gdouble     scale = 1.0;
  gsize       bytes;

  memset (frame, 0, sizeof *frame);
  frame->work = pertouch_work_for (gimp_drawable_get_format (drawable));
  if (max_side > 0 && MAX (w, h) > max_side)
    scale = (gdouble) max_side / MAX (w, h);
  frame->width  = MAX (1, (gint) floor (w * scale));
  frame->height = MAX (1, (gint) floor (h * scale));
  frame->stride = (gsize) frame->width * frame->work.bpp;
  bytes = frame->stride * frame->height;
  frame->data = g_try_malloc (bytes);
  if (! frame->data)
    {
      g_set_error (error, PT_ERROR, 0,
                   "not enough memory to read the %d x %d layer (%.0f MB)",
                   frame->width, frame->height, bytes / 1e6);
      return FALSE;
    }
  buffer = gimp_drawable_get_buffer (drawable);
  gegl_buffer_get (buffer, GEGL_RECTANGLE (0, 0, frame->width, frame->height), scale,
                   frame->work.format, frame->data, frame->stride, GEGL_ABYSS_CLAMP);
  g_object_unref (buffer);
  return TRUE;
}

void
pt_frame_clear (PtFrame *frame)
{
  g_clear_pointer (&frame->data, g_free);
}

PtImage
pt_frame_image (const PtFrame *frame)
{
  PtImage image = { frame->data, (uint32_t) frame->width, (uint32_t) frame->height,
                    frame->stride, frame->work.channels, frame->work.depth };

  return image;
}

/* Renders rows [y, y + h) x [x, x + w) of `source` into `dst` (w x h, `stride`),
 * then mixes with the source. */
static gboolean
render_rect (PtEngine      *engine,
             const PtFrame *source,
             const gchar   *state_json,
             gdouble        mix,
             gint x, gint y, gint w, gint h,
             guchar        *dst,
             gsize          stride,
             GError       **error)
{
  PtImage src = pt_frame_image (source);
  PtRect  roi = { (uint32_t) x, (uint32_t) y, (uint32_t) w, (uint32_t) h };
  PtImage out = { dst, (uint32_t) w, (uint32_t) h, stride, source->work.channels, source->work.depth };

  if (pt_render (engine, &src, state_json, 1.0f, &roi, &out, NULL, NULL, NULL) != PT_OK)
    {
      set_pt_error (error, "PerTouch could not render the edit");
      return FALSE;
    }
  if (mix < 1.0)
    pertouch_mix_rows (&source->work,
                       source->data + (gsize) y * source->stride + (gsize) x * source->work.bpp,
                       source->stride, dst, stride, w, h, mix);
  return TRUE;
}

gboolean
pt_render_frame (PtEngine      *engine,
                 const PtFrame *source,
                 const gchar   *state_json,
                 gdouble        mix,
                 PtFrame       *out,
                 GError       **error)
{
  *out = *source;
  out->data = g_try_malloc (source->stride * source->height);
  if (! out->data)
    {
      g_set_error (error, PT_ERROR, 0, "not enough memory for the preview");
      return FALSE;
    }
  if (! render_rect (engine, source, state_json, mix, 0, 0, source->width, source->height,
                     out->data, out->stride, error))
    {
      pt_frame_clear (out);
      return FALSE;
    }
  return TRUE;
}

gboolean
pt_render_to_drawable (PtEngine      *engine,
                       const PtFrame *source,
                       const gchar   *state_json,
                       gdouble        mix,
                       GimpDrawable  *target,
                       GError       **error)
{
  GeglBuffer *shadow;
  gint        x, y, w, h, row, rows;
  gsize       stride;
  guchar     *strip;
  gboolean    ok = TRUE;

  /* Nothing selected on this layer: nothing to do. */
  if (! gimp_drawable_mask_intersect (target, &x, &y, &w, &h))
    return TRUE;
  if (source->width != gimp_drawable_get_width (target) ||
      source->height != gimp_drawable_get_height (target))
    {
      g_set_error (error, PT_ERROR, 0, "the layer changed size while PerTouch worked");
      return FALSE;
    }
  rows   = pertouch_strip_rows (w, h);
  stride = (gsize) w * source->work.bpp;
  strip  = g_try_malloc (stride * rows);
  if (! strip)
    {
      g_set_error (error, PT_ERROR, 0, "not enough memory for a %d x %d strip", w, rows);
      return FALSE;
    }
  shadow = gimp_drawable_get_shadow_buffer (target);
  gimp_progress_update (0.0);
  for (row = y; row < y + h && ok; row += rows)
    {
      gint n = MIN (rows, y + h - row);

      ok = render_rect (engine, source, state_json, mix, x, row, w, n, strip, stride, error);
      if (ok)
        gegl_buffer_set (shadow, GEGL_RECTANGLE (x, row, w, n), 0,
                         source->work.format, strip, stride);
      gimp_progress_update ((gdouble) (row + n - y) / h);
    }
  gegl_buffer_flush (shadow);
  g_object_unref (shadow);
  g_free (strip);
  if (ok)
    {
      gimp_drawable_merge_shadow (target, TRUE);
      gimp_drawable_update (target, x, y, w, h);
    }
  return ok;
}
