/* pertouch:retouch — PerTouch's region-aware retouch as a GEGL operation.
 *
 * A filter with three properties: `state` (the region state JSON: changes per
 * region in level units, e.g. {"sky": {"temperature": 0.1}}), `mix` and
 * `renderer`. It works wherever GEGL runs: as a non-destructive filter on a GIMP 3
 * layer (GIMP runs it inside its own process), in the `gegl` command, in any
 * GEGL graph.
 *
 * Segmentation and measurement need the whole frame, so the operation asks for
 * the whole input (get_required_for_output) and computes its whole output in one
 * go (get_cached_region); GEGL then serves every tile from that cache. The frame
 * is read once, planned once by libpertouch (which caches a frame's plan by
 * content and state across calls and threads) and rendered in strips of rows on
 * the calling thread, libpertouch threading each strip itself.
 *
 * It runs inside the host's process, so it must never take the host down: every
 * libpertouch call returns a status (libpertouch catches its own panics), big
 * buffers come from g_try_malloc, and any failure (a bad state, a region nobody
 * can find, no diffusion package, not enough memory) passes the input through
 * unchanged and reports the reason once with g_warning.
 *
 * Cancelling: GEGL 0.4 has no way to stop an operation's process() once it runs
 * (no cancel in its API), and GIMP 3.0 renders filter previews from its main
 * loop in chunks, stopping only between them. So the work is bounded instead:
 * one plan per frame and state (cached by libpertouch, so changing the mix or
 * re-rendering after GEGL drops its cache costs only the render), strips
 * rendered on all cores, and progress reported between strips with
 * gegl_operation_progress. The diffusion renderer is the exception (minutes on a
 * CPU): the plug-in renders it in its own process instead, where GIMP's Cancel
 * works.
 *
 * Zoomed-out views: GIMP asks for mipmap levels; a level's frame is planned on
 * its own (close to the full render scaled down; the full-size render is the
 * exact one).
 */

#ifdef GEGL_PROPERTIES

enum_start (pertouch_retouch_renderer)
  enum_value (PERTOUCH_RETOUCH_PARAMETRIC, "parametric", "Parametric")
  enum_value (PERTOUCH_RETOUCH_DIFFUSION, "diffusion", "Diffusion")
enum_end (PertouchRetouchRenderer)

property_string (state, "Region state", "{}")
  description ("The edit: changes per region in level units [-1, 1], as JSON, "
               "e.g. {\"global\": {\"brightness\": 0.1}, \"sky\": {\"temperature\": -0.3}}. "
               "Attributes: colorfulness, contrast, temperature, brightness. "
               "Regions: global, sky, vegetation, water, skin, shadows, midtones, highlights, ...")
  ui_meta ("multiline", "true")

property_double (mix, "Mix", 1.0)
  description ("0 shows the source, 1 the retouched result, in between a blend")
  value_range (0.0, 1.0)

property_enum (renderer, "Renderer", PertouchRetouchRenderer,
               pertouch_retouch_renderer, PERTOUCH_RETOUCH_PARAMETRIC)
  description ("Parametric: fast, exact to the measured levels, no model files. "
               "Diffusion: PerTouch's own model from an installed package (slow on a CPU).")

#else

#define GEGL_OP_FILTER
#define GEGL_OP_NAME     pertouch_retouch
#define GEGL_OP_C_SOURCE pertouch-retouch.c

/* gegl-op.h translates enum labels with dgettext (GETTEXT_PACKAGE); we ship no
 * catalog, so they stay English. */
#define GETTEXT_PACKAGE "pertouch"
#include <glib/gi18n-lib.h>

/* gegl-op.h's type macros cast GObject init functions to GLib's generic types
 * (as GLib's own G_DEFINE_* macros do) and leave generated parameters unused;
 * -Wextra flags both in our unit. */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wcast-function-type"
#pragma GCC diagnostic ignored "-Wunused-parameter"
#include <gegl-op.h>
#pragma GCC diagnostic pop
#include "pertouch-work.h"

/* Per operation instance: the last message reported, so that a failing state
 * warns once, not once per render. */
typedef struct
{
  GMutex lock;
  gchar *last_message;
} Instance;

/* ---- engines: one per renderer, for the whole process ---- */

static GMutex     engine_lock;
static PtEngine  *engines[2];
static gchar     *engine_errors[2];

/* The engine for `renderer`, created on first use; NULL with `*error` set when it
 * cannot be opened (the reason is kept: a missing package does not appear later). */
static PtEngine *
engine_for (gint renderer, const gchar **error)
{
  static const gchar *configs[2] = { "{\"renderer\": \"parametric\"}",
                                     "{\"renderer\": \"diffusion\"}" };
  PtEngine *e;
  gint      i = renderer == PERTOUCH_RETOUCH_DIFFUSION ? 1 : 0;

  g_mutex_lock (&engine_lock);
  if (! engines[i] && ! engine_errors[i])
    {
      PtEngine *made = NULL;

      if (pt_engine_new (configs[i], &made) == PT_OK)
        engines[i] = made;
      else
        engine_errors[i] = g_strdup (pt_last_error ());
    }
  e = engines[i];
  *error = engine_errors[i];
  g_mutex_unlock (&engine_lock);
  return e;
}

/* ---- the last whole frame rendered, for this process ---- */

/* GIMP asks for the same frame again when GEGL's cache for the node is gone:
 * exporting (it merges a duplicate of the image), undo, toggling the effect. The
 * plan is cached by libpertouch already; this keeps the pixels too, so such a
 * request costs a read of the input, a hash and a copy. One frame, at most
 * LAST_MAX_BYTES (a 24-megapixel frame is 72 MB in 8-bit RGB, 144 MB in 16-bit;
 * float frames that size are not kept). */
#define LAST_MAX_BYTES ((gsize) 256 * 1024 * 1024)

typedef struct
{
  guint64     hash[2];     /* of the input frame's pixels */
  gint        width, height, level, renderer;
  const Babl *format;
  gchar      *state;
  gdouble     mix;
  guchar     *pixels;      /* the output, width x height in `format` */
} LastRender;

static GMutex     last_lock;
static LastRender last;

/* Two independent 64-bit lanes over every byte of the frame. */
static void
frame_hash (const guchar *p,
            gsize         n,
            guint64       h[2])
{
  guint64 a = 0x9E3779B97F4A7C15ull, b = 0xC2B2AE3D27D4EB4Full;
  gsize   i;

  for (i = 0; i + 8 <= n; i += 8)
    {
      guint64 v;

      memcpy (&v, p + i, 8);
      a = (a ^ v) * 0x100000001B3ull;
      b = (b + v) * 0xFF51AFD7ED558CCDull;
      b ^= b >> 29;
    }
  for (; i < n; i++)
    a = (a ^ p[i]) * 0x100000001B3ull;
  h[0] = a;
  h[1] = b ^ n;
}

static gboolean
last_matches (const guint64 hash[2], const GeglRectangle *frame, gint level,
              const Babl *format, const GeglProperties *o)
{
  return last.pixels && last.hash[0] == hash[0] && last.hash[1] == hash[1] &&
         last.width == frame->width && last.height == frame->height &&
         last.level == level && last.format == format && last.renderer == (gint) o->renderer &&
         last.mix == o->mix && g_strcmp0 (last.state, o->state) == 0;
}

/* Keeps `pixels` (taken) as the last render. */
static void
last_store (const guint64 hash[2], const GeglRectangle *frame, gint level,
            const Babl *format, const GeglProperties *o, guchar *pixels)
{
  g_mutex_lock (&last_lock);
  g_free (last.pixels);
  g_free (last.state);
  last = (LastRender) { { hash[0], hash[1] }, frame->width, frame->height, level,
                        (gint) o->renderer, format, g_strdup (o->state), o->mix, pixels };
  g_mutex_unlock (&last_lock);
}

/* ---- the instance record ---- */

static void
instance_free (gpointer data)
{
  Instance *in = data;

  g_free (in->last_message);
  g_mutex_clear (&in->lock);
  g_free (in);
}

static Instance *
instance_of (GeglOperation *operation)
{
  static GMutex create_lock;
  Instance     *in;

  g_mutex_lock (&create_lock);
  in = g_object_get_data (G_OBJECT (operation), "pertouch-instance");
  if (! in)
    {
      in = g_new0 (Instance, 1);
      g_mutex_init (&in->lock);
      g_object_set_data_full (G_OBJECT (operation), "pertouch-instance",
                              in, instance_free);
    }
  g_mutex_unlock (&create_lock);
  return in;
}

/* Warns about `message` unless it is the one this instance reported last. */
static void
report (GeglOperation *operation,
        const gchar   *message)
{
  Instance *in = instance_of (operation);
  gboolean  fresh;

  g_mutex_lock (&in->lock);
  fresh = g_strcmp0 (in->last_message, message) != 0;
  if (fresh)
    {
      g_free (in->last_message);
      in->last_message = g_strdup (message);
    }
  g_mutex_unlock (&in->lock);
  if (fresh && message)
    g_warning ("pertouch:retouch: %s; the input is passed through unchanged", message);
}

/* ---- formats and geometry ---- */

static PertouchWork
work_of (GeglOperation *operation)
{
  return pertouch_work_for (gegl_operation_get_format (operation, "output"));
}

static void
prepare (GeglOperation *operation)
{
  PertouchWork w = pertouch_work_for (gegl_operation_get_source_format (operation, "input"));

  gegl_operation_set_format (operation, "input", w.format);
  gegl_operation_set_format (operation, "output", w.format);
}

static GeglRectangle
get_required_for_output (GeglOperation       *operation,
                         const gchar         *input_pad G_GNUC_UNUSED,
                         const GeglRectangle *roi)
{
  const GeglRectangle *in = gegl_operation_source_get_bounding_box (operation, "input");

  if (! in || gegl_rectangle_is_infinite_plane (in))
    return *roi;
  return *in;
}

static GeglRectangle
get_cached_region (GeglOperation       *operation,
                   const GeglRectangle *roi)
{
  const GeglRectangle *in = gegl_operation_source_get_bounding_box (operation, "input");

  if (! in || gegl_rectangle_is_infinite_plane (in))
    return *roi;
  return *in;
}

/* Any input change can move the frame's measurements: the whole output is stale. */
static GeglRectangle
get_invalidated_by_change (GeglOperation       *operation,
                           const gchar         *input_pad G_GNUC_UNUSED,
                           const GeglRectangle *input_roi)
{
  const GeglRectangle *in = gegl_operation_source_get_bounding_box (operation, "input");

  if (! in || gegl_rectangle_is_infinite_plane (in))
    return *input_roi;
  return *in;
}

/* `r` in the pixels of mipmap `level`. GEGL hands a filter's process its
 * rectangle in full-size pixels whatever the level (its point filters scale it
 * the same way, by shifting), while buffers at a level are read and written in
 * that level's pixels. */
static GeglRectangle
at_level (const GeglRectangle *r,
          gint                 level)
{
  GeglRectangle s = { r->x >> level, r->y >> level, r->width >> level, r->height >> level };

  return s;
}

/* ---- processing ---- */

/* Copies the input to the output for `result` at `level`, in strips. */
static void
pass_through (GeglBuffer          *input,
              GeglBuffer          *output,
              const GeglRectangle *result,
              gint                 level,
              const PertouchWork  *w)
{
  gdouble scale = 1.0 / (1 << level);
  gint    rows  = pertouch_strip_rows (result->width, result->height);
  gsize   stride = (gsize) result->width * w->bpp;
  guchar *buf = g_try_malloc (stride * rows);
  gint    y;

  if (! buf)
    return; /* nothing sensible left to do; GEGL shows what the output holds */
  for (y = result->y; y < result->y + result->height; y += rows)
    {
      GeglRectangle r = { result->x, y, result->width, MIN (rows, result->y + result->height - y) };

      gegl_buffer_get (input, &r, scale, w->format, buf, stride, GEGL_ABYSS_NONE);
      gegl_buffer_set (output, &r, level, w->format, buf, stride);
    }
  g_free (buf);
}

/* With PERTOUCH_GEGL_DEBUG set: what one process() call did and how long it took. */
static void
debug_timing (GeglOperation       *operation,
              const PertouchWork  *w,
              const GeglRectangle *frame,
              gint                 level,
              const GeglRectangle *result,
              gint64               t_start,
              gint64               t_read,
              const gchar         *what)
{
  if (! g_getenv ("PERTOUCH_GEGL_DEBUG"))
    return;
  g_printerr ("pertouch:retouch: %s, frame %dx%d level %d, rows %d..%d (source %s): "
              "read %.3f s, %s %.3f s\n",
              babl_get_name (w->format), frame->width, frame->height, level, result->y,
              result->y + result->height,
              babl_get_name (gegl_operation_get_source_format (operation, "input")),
              (t_read - t_start) / 1e6, what, (g_get_monotonic_time () - t_read) / 1e6);
}

/* Renders `result` of the frame; FALSE with `*message` set when it cannot. */
static gboolean
retouch (GeglOperation       *operation,
         GeglBuffer          *input,
         GeglBuffer          *output,
         const GeglRectangle *result,
         gint                 level,
         const PertouchWork  *w,
         gchar              **message)
{
  GeglProperties      *o = GEGL_PROPERTIES (operation);
  const GeglRectangle *bbox = gegl_operation_source_get_bounding_box (operation, "input");
  GeglRectangle        frame;
  const gchar         *engine_error = NULL;
  PtEngine            *engine;
  guchar              *src = NULL, *strip = NULL;
  gsize                src_stride, strip_stride;
  gint                 rows, y;
  gboolean             ok = FALSE;
  gdouble              scale = 1.0 / (1 << level);
  gint64               t_start = 0, t_read = 0;
  guint64              hash[2] = { 0, 0 };
  gboolean             whole;
  PtImage              src_image;

  if (! bbox || gegl_rectangle_is_infinite_plane (bbox))
    {
      *message = g_strdup ("the input has no bounds (an infinite plane); "
                           "PerTouch needs a whole photo");
      return FALSE;
    }
  frame = at_level (bbox, level);
  if (frame.width <= 0 || frame.height <= 0)
    return TRUE;
  if (! gegl_rectangle_contains (&frame, result))
    {
      *message = g_strdup_printf ("asked for %d,%d %dx%d outside the %dx%d frame",
                                  result->x, result->y, result->width, result->height,
                                  frame.width, frame.height);
      return FALSE;
    }
  engine = engine_for (o->renderer, &engine_error);
  if (! engine)
    {
      *message = g_strdup_printf ("the %s renderer is not available: %s",
                                  o->renderer == PERTOUCH_RETOUCH_DIFFUSION ? "diffusion" : "parametric",
                                  engine_error ? engine_error : "unknown error");
      return FALSE;
    }

  src_stride = (gsize) frame.width * w->bpp;
  src = g_try_malloc (src_stride * frame.height);
  rows = pertouch_strip_rows (result->width, result->height);
  strip_stride = (gsize) result->width * w->bpp;
  /* A whole frame is rendered into one buffer that is then kept (see LastRender);
   * anything else strip by strip. */
  whole = gegl_rectangle_equal (result, &frame) &&
          strip_stride * result->height <= LAST_MAX_BYTES;
  strip = g_try_malloc (strip_stride * (whole ? result->height : rows));
  if (! src || ! strip)
    {
      *message = g_strdup_printf ("not enough memory for a %d x %d frame (%.0f MB)",
                                  frame.width, frame.height,
                                  (src_stride * frame.height + strip_stride * rows) / 1e6);
      goto done;
    }
  gegl_operation_progress (operation, 0.0, "PerTouch: reading the frame");
  t_start = g_get_monotonic_time ();
  gegl_buffer_get (input, &frame, scale, w->format, src, src_stride, GEGL_ABYSS_NONE);
  t_read = g_get_monotonic_time ();
  src_image = (PtImage) { src, (guint32) frame.width, (guint32) frame.height,
                          src_stride, w->channels, w->depth };

  if (whole)
    {
      gboolean served;

      frame_hash (src, src_stride * frame.height, hash);
      g_mutex_lock (&last_lock);
      served = last_matches (hash, &frame, level, w->format, o);
      if (served)
        gegl_buffer_set (output, result, level, w->format, last.pixels, strip_stride);
      g_mutex_unlock (&last_lock);
      if (served)
        {
          ok = TRUE;
          debug_timing (operation, w, &frame, level, result, t_start, t_read, "the last render again");
          goto done;
        }
    }

  gegl_operation_progress (operation, 0.05, "PerTouch: planning");
  for (y = result->y; y < result->y + result->height; y += rows)
    {
      gint     h = MIN (rows, result->y + result->height - y);
      PtRect   roi = { (guint32) (result->x - frame.x), (guint32) (y - frame.y),
                       (guint32) result->width, (guint32) h };
      guchar  *out = whole ? strip + (gsize) (y - result->y) * strip_stride : strip;
      PtImage  dst = { out, (guint32) result->width, (guint32) h, strip_stride, w->channels, w->depth };
      PtStatus st;

      st = pt_render (engine, &src_image, o->state, 1.0f, &roi, &dst, NULL, NULL, NULL);
      if (st != PT_OK)
        {
          *message = g_strdup (pt_last_error ());
          goto done;
        }
      if (o->mix < 1.0)
        pertouch_mix_rows (w, src + (gsize) roi.y * src_stride + (gsize) roi.x * w->bpp, src_stride,
                           out, strip_stride, result->width, h, o->mix);
      gegl_buffer_set (output, GEGL_RECTANGLE (result->x, y, result->width, h),
                       level, w->format, out, strip_stride);
      gegl_operation_progress (operation,
                               0.1 + 0.9 * (y + h - result->y) / (gdouble) result->height,
                               "PerTouch: rendering");
    }
  ok = TRUE;
  debug_timing (operation, w, &frame, level, result, t_start, t_read, "rendered");
  if (whole)
    {
      last_store (hash, &frame, level, w->format, o, strip);
      strip = NULL;
    }

done:
  g_free (strip);
  g_free (src);
  return ok;
}

static gboolean
process (GeglOperation       *operation,
         GeglBuffer          *input,
         GeglBuffer          *output,
         const GeglRectangle *result,
         gint                 level)
{
  PertouchWork  w = work_of (operation);
  GeglRectangle r = at_level (result, level);
  gchar        *message = NULL;

  if (r.width <= 0 || r.height <= 0)
    return TRUE;
  result = &r;
  if (! retouch (operation, input, output, result, level, &w, &message))
    {
      if (message)
        report (operation, message);
      pass_through (input, output, result, level, &w);
    }
  else
    report (operation, NULL);
  g_free (message);
  gegl_operation_progress (operation, 1.0, "");
  return TRUE;
}

/* Nothing to do (empty state, mix 0) or nothing possible (an infinite plane):
 * hand the input on untouched, without reading the frame. */
static gboolean
operation_process (GeglOperation        *operation,
                   GeglOperationContext *context,
                   const gchar          *output_prop,
                   const GeglRectangle  *result,
                   gint                  level G_GNUC_UNUSED)
{
  GeglProperties      *o = GEGL_PROPERTIES (operation);
  const GeglRectangle *in_rect = gegl_operation_source_get_bounding_box (operation, "input");
  GeglOperationClass  *parent = GEGL_OPERATION_CLASS (gegl_op_parent_class);

  if (o->mix <= 0.0 || pertouch_state_is_empty (o->state) ||
      (in_rect && gegl_rectangle_is_infinite_plane (in_rect)))
    {
      gpointer in = gegl_operation_context_get_object (context, "input");

      if (in)
        gegl_operation_context_take_object (context, "output", g_object_ref (G_OBJECT (in)));
      return TRUE;
    }
  return parent->process (operation, context, output_prop, result,
                          gegl_operation_context_get_level (context));
}

static void
gegl_op_class_init (GeglOpClass *klass)
{
  GeglOperationClass       *operation_class = GEGL_OPERATION_CLASS (klass);
  GeglOperationFilterClass *filter_class    = GEGL_OPERATION_FILTER_CLASS (klass);

  filter_class->process                      = process;
  operation_class->prepare                   = prepare;
  operation_class->process                   = operation_process;
  operation_class->get_required_for_output   = get_required_for_output;
  operation_class->get_cached_region         = get_cached_region;
  operation_class->get_invalidated_by_change = get_invalidated_by_change;
  /* One call renders the whole frame; libpertouch threads it itself. */
  operation_class->threaded                  = FALSE;

  gegl_operation_class_set_keys (operation_class,
    "name",        "pertouch:retouch",
    "title",       "PerTouch Retouch",
    "categories",  "color",
    "description", "Moves colorfulness, contrast, temperature and brightness of "
                   "named regions (sky, skin, vegetation, water, shadows, ...) "
                   "to measured levels, from a region state of changes.",
    NULL);
}

#endif
