/* run.c — what one call of plug-in-pertouch does, in any run mode.
 *
 * 1. The base state: the `state` argument, else the layer's PerTouch filter's.
 * 2. Agent "recall": the remembered edit of the most similar photo goes under it.
 * 3. The instruction, read by the offline agent on the whole layer (it renders
 *    and measures a preview, and adjusts, at most three rounds).
 * 4. The final state is rendered once on a small copy of the layer, so a bad
 *    state or a region the segmenters cannot find fails here, with its message,
 *    before the image is touched.
 * 5. Applied as the filter, a new layer or merged, as one undo step.
 * 6. "remember": the edit is stored in PerTouch's memory (profile "gimp"). */

#include "run.h"

#include "filter.h"
#include "memory.h"
#include "pixels.h"
#include "state.h"

/* The side of the thumbnail the final state is checked on. */
#define CHECK_SIDE 256

void
pt_run_request_from_config (PtRunRequest        *request,
                            GimpProcedureConfig *config)
{
  gchar *apply_as = NULL, *agent = NULL;

  g_object_get (config,
                "instruction", &request->instruction,
                "state",       &request->state,
                "agent",       &agent,
                "renderer",    &request->renderer,
                "mix",         &request->mix,
                "apply-as",    &apply_as,
                "remember",    &request->remember,
                NULL);
  if (! request->instruction)
    request->instruction = g_strdup ("");
  if (! request->state)
    request->state = g_strdup ("");
  if (! request->renderer)
    request->renderer = g_strdup ("parametric");
  request->recall = g_strcmp0 (agent, "recall") == 0;
  request->apply_as = g_strcmp0 (apply_as, "new-layer") == 0 ? PT_APPLY_NEW_LAYER
                    : g_strcmp0 (apply_as, "merge") == 0     ? PT_APPLY_MERGE
                                                             : PT_APPLY_FILTER;
  g_free (apply_as);
  g_free (agent);
}

void
pt_run_request_clear (PtRunRequest *request)
{
  g_clear_pointer (&request->instruction, g_free);
  g_clear_pointer (&request->state, g_free);
  g_clear_pointer (&request->renderer, g_free);
}

void
pt_run_outcome_clear (PtRunOutcome *outcome)
{
  g_clear_pointer (&outcome->state, g_free);
  g_clear_pointer (&outcome->summary, g_free);
  g_clear_pointer (&outcome->note, g_free);
}

gboolean
pt_run_check_drawable (GimpDrawable  *drawable,
                       GError       **error)
{
  if (! GIMP_IS_LAYER (drawable))
    {
      g_set_error (error, PT_ERROR, 0,
                   "PerTouch works on layers; \"%s\" is a channel or a layer mask",
                   gimp_item_get_name (GIMP_ITEM (drawable)));
      return FALSE;
    }
  if (gimp_drawable_is_indexed (drawable))
    {
      g_set_error (error, PT_ERROR, 0,
                   "PerTouch needs an RGB image; this one is indexed. Convert it "
                   "with Image > Mode > RGB, retouch, and convert back if you need to.");
      return FALSE;
    }
  if (gimp_drawable_is_gray (drawable))
    {
      g_set_error (error, PT_ERROR, 0,
                   "PerTouch needs an RGB image; this one is greyscale, so its regions "
                   "cannot be found by colour and colour edits would be lost. Convert it "
                   "with Image > Mode > RGB first.");
      return FALSE;
    }
  return TRUE;
}

gchar *
pt_run_engine_config (const gchar *renderer)
{
  return g_strdup_printf ("{\"renderer\": \"%s\"}",
                          g_strcmp0 (renderer, "diffusion") == 0 ? "diffusion"
                                                                 : "parametric");
}

/* The offline agent: `instruction` on top of `base` for the layer in `frame`.
 * Most states fit the first buffer; only a longer one runs the agent again. */
gchar *
pt_run_read_instruction (PtEngine      *engine,
                         const PtFrame *frame,
                         const gchar   *instruction,
                         const gchar   *base,
                         gboolean      *caller_error,
                         GError       **error)
{
  PtImage  src = pt_frame_image (frame);
  gsize    len = 64 * 1024, needed = 0;
  gchar   *out = g_malloc (len);
  PtStatus st;

  st = pt_agent_apply (engine, &src, instruction, base, out, len, &needed);
  if (st == PT_ERR_BUFFER_TOO_SMALL)
    {
      out = g_realloc (out, needed);
      st  = pt_agent_apply (engine, &src, instruction, base, out, needed, &needed);
    }
  if (st != PT_OK)
    {
      *caller_error = st == PT_ERR_INVALID || st == PT_ERR_MODEL;
      g_set_error (error, PT_ERROR, 0, "PerTouch could not apply \"%s\": %s",
                   instruction, pt_last_error ());
      g_free (out);
      return NULL;
    }
  return out;
}

/* Renders `state` on GIMP's thumbnail of the layer: the check that it can be
 * rendered at all (valid JSON, known attributes, regions the segmenters know),
 * before the image is touched. The thumbnail comes from GIMP's own previews, so
 * this costs little even for a large layer (reading a 24-megapixel layer small
 * instead takes about a second). */
static gboolean
check_state (PtEngine     *engine,
             GimpDrawable *drawable,
             const gchar  *state,
             GError      **error)
{
  GdkPixbuf *thumb = gimp_drawable_get_thumbnail (drawable, CHECK_SIDE, CHECK_SIDE,
                                                  GIMP_PIXBUF_KEEP_ALPHA);
  gint       w, h, stride, channels;
  guchar    *out;
  gboolean   ok;

  if (! thumb)
    {
      /* GIMP 3.0 makes 8-bit thumbnails only of 8-bit layers: read a small copy. */
      PtFrame small, rendered;

      if (! pt_frame_read (drawable, CHECK_SIDE, &small, error))
        return FALSE;
      ok = pt_render_frame (engine, &small, state, 1.0, &rendered, error);
      pt_frame_clear (&rendered);
      pt_frame_clear (&small);
      return ok;
    }
  w        = gdk_pixbuf_get_width (thumb);
  h        = gdk_pixbuf_get_height (thumb);
  stride   = gdk_pixbuf_get_rowstride (thumb);
  channels = gdk_pixbuf_get_n_channels (thumb);
  out      = g_malloc ((gsize) stride * h);
  {
    PtImage src = { gdk_pixbuf_get_pixels (thumb), (uint32_t) w, (uint32_t) h, (gsize) stride,
                    (uint32_t) channels, PT_DEPTH_U8 };
    PtImage dst = { out, (uint32_t) w, (uint32_t) h, (gsize) stride, (uint32_t) channels,
                    PT_DEPTH_U8 };

    ok = pt_render (engine, &src, state, 1.0f, NULL, &dst, NULL, NULL, NULL) == PT_OK;
  }
  if (! ok)
    g_set_error (error, PT_ERROR, 0, "PerTouch could not render the edit: %s", pt_last_error ());
  g_free (out);
  g_object_unref (thumb);
  return ok;
}

/* With PERTOUCH_DEBUG set: how long a step took (stderr, GIMP's terminal). */
static void
debug_step (const gchar *step,
            gint64      *since)
{
  gint64 now = g_get_monotonic_time ();

  if (g_getenv ("PERTOUCH_DEBUG"))
    g_printerr ("pertouch: %s %.3f s\n", step, (now - *since) / 1e6);
  *since = now;
}

/* Adds a line to what the user should know. */
static void
add_note (PtRunOutcome *outcome,
          const gchar  *text)
{
  gchar *both;

  if (! text)
    return;
  both = outcome->note ? g_strconcat (outcome->note, "\n", text, NULL) : g_strdup (text);
  g_free (outcome->note);
  outcome->note = both;
}

static void
remove_pertouch_filters (GimpDrawable *drawable)
{
  GimpDrawableFilter *f;

  while ((f = pt_filter_find (drawable)))
    gimp_drawable_filter_delete (f);
}

/* Renders the edit here, into `target` (the layer or its copy). */
static gboolean
render_destructive (const PtRunRequest *request,
                    const PtFrame      *frame,
                    const gchar        *state,
                    GimpDrawable       *target,
                    GError            **error)
{
  gchar    *config = pt_run_engine_config (request->renderer);
  PtEngine *engine = NULL;
  gboolean  ok;

  if (pt_engine_new (config, &engine) != PT_OK)
    {
      g_set_error (error, PT_ERROR, 0, "the %s renderer is not available: %s",
                   request->renderer, pt_last_error ());
      g_free (config);
      return FALSE;
    }
  g_free (config);
  gimp_progress_init ("PerTouch: rendering");
  ok = pt_render_to_drawable (engine, frame, state, request->mix, target, error);
  gimp_progress_end ();
  pt_engine_free (engine);
  return ok;
}

/* The diffusion renderer needs an installed package: say so now rather than
 * leave a filter that passes the layer through. */
static gboolean
check_renderer (const gchar *renderer,
                GError     **error)
{
  gchar    *config;
  PtEngine *engine = NULL;
  gboolean  ok;

  if (g_strcmp0 (renderer, "diffusion") != 0)
    return TRUE;
  config = pt_run_engine_config (renderer);
  ok = pt_engine_new (config, &engine) == PT_OK;
  if (! ok)
    g_set_error (error, PT_ERROR, 0, "the diffusion renderer is not available: %s",
                 pt_last_error ());
  else
    pt_engine_free (engine);
  g_free (config);
  return ok;
}

gboolean
pt_run_apply (GimpImage          *image,
              GimpDrawable       *drawable,
              const PtRunRequest *request,
              PtRunOutcome       *outcome,
              GError            **error)
{
  GimpDrawableFilter *existing = NULL;
  PtFilterSettings    old = { 0 };
  PtEngine           *engine = NULL;
  PtFrame             frame = { 0 };
  gchar              *state = NULL;
  gboolean            need_frame, ok = FALSE;
  gint64              t = g_get_monotonic_time ();

  if (request->apply_as == PT_APPLY_FILTER || request->remove_filter)
    existing = pt_filter_find (drawable);

  if (request->remove_filter)
    {
      if (existing)
        {
          gimp_image_undo_group_start (image);
          remove_pertouch_filters (drawable);
          gimp_image_undo_group_end (image);
        }
      outcome->state   = g_strdup ("{}");
      outcome->summary = g_strdup ("PerTouch filter removed");
      return TRUE;
    }
  if (gimp_item_is_group (GIMP_ITEM (drawable)) && request->apply_as != PT_APPLY_FILTER)
    {
      outcome->caller_error = TRUE;
      g_set_error (error, PT_ERROR, 0,
                   "a layer group has no pixels of its own to render into; use "
                   "apply-as \"filter\", or select a layer inside the group");
      return FALSE;
    }

  if (existing)
    pt_filter_read (existing, &old);
  if (request->state && *request->state)
    state = g_strdup (request->state);
  else if (old.state)
    state = g_strdup (old.state);
  else
    state = g_strdup ("{}");

  if (pt_engine_new (NULL, &engine) != PT_OK)
    {
      g_set_error (error, PT_ERROR, 0, "PerTouch could not start: %s", pt_last_error ());
      goto out;
    }

  need_frame = request->apply_as != PT_APPLY_FILTER || request->remember ||
               (! request->state_is_final && (request->recall || *request->instruction));
  if (need_frame)
    {
      gimp_progress_init ("PerTouch: reading the layer");
      if (! pt_frame_read (drawable, 0, &frame, error))
        goto out;
      debug_step ("read the layer", &t);
    }

  if (! request->state_is_final && request->recall)
    {
      gchar *recalled = NULL, *note = NULL;

      if (! pertouch_memory_recall (&frame, state, &recalled, &note, error))
        goto out;
      add_note (outcome, note);
      g_free (note);
      g_free (state);
      state = recalled;
    }

  if (! request->state_is_final && *request->instruction)
    {
      gchar *read;

      gimp_progress_init ("PerTouch: reading the instruction");
      read = pt_run_read_instruction (engine, &frame, request->instruction, state,
                               &outcome->caller_error, error);
      if (! read)
        goto out;
      g_free (state);
      state = read;
      debug_step ("read the instruction", &t);
    }

  if (! check_state (engine, drawable, state, error) ||
      (request->apply_as == PT_APPLY_FILTER && ! check_renderer (request->renderer, error)))
    {
      outcome->caller_error = TRUE;
      goto out;
    }
  debug_step ("checked the state", &t);

  gimp_image_undo_group_start (image);
  switch (request->apply_as)
    {
    case PT_APPLY_FILTER:
      ok = pt_filter_apply (drawable, existing, state, request->mix,
                            request->renderer, error) != NULL;
      break;

    case PT_APPLY_MERGE:
      ok = render_destructive (request, &frame, state, drawable, error);
      break;

    case PT_APPLY_NEW_LAYER:
      {
        GimpLayer *copy = gimp_layer_copy (GIMP_LAYER (drawable));
        GimpItem  *parent = gimp_item_get_parent (GIMP_ITEM (drawable));
        gchar     *name = g_strdup_printf ("%s (PerTouch)",
                                           gimp_item_get_name (GIMP_ITEM (drawable)));

        gimp_item_set_name (GIMP_ITEM (copy), name);
        g_free (name);
        gimp_image_insert_layer (image, copy, parent ? GIMP_LAYER (parent) : NULL,
                                 gimp_image_get_item_position (image, GIMP_ITEM (drawable)));
        /* The copy carries the layer's effects; a PerTouch one would apply twice. */
        remove_pertouch_filters (GIMP_DRAWABLE (copy));
        ok = render_destructive (request, &frame, state, GIMP_DRAWABLE (copy), error);
      }
      break;
    }
  gimp_image_undo_group_end (image);
  if (! ok)
    goto out;
  debug_step ("applied", &t);
  if (request->apply_as == PT_APPLY_FILTER && g_strcmp0 (request->renderer, "diffusion") == 0)
    add_note (outcome, "The diffusion renderer runs inside GIMP each time the filter "
                              "renders, and GIMP waits for it (minutes on a CPU). Apply as "
                              "\"new layer\" renders it once, in the plug-in, with a progress "
                              "bar you can cancel.");

  if (request->remember)
    {
      gchar  *note = NULL;
      GError *failed = NULL;

      /* The edit is made; a memory that cannot be written is a note, not a failure. */
      if (! pertouch_memory_remember (&frame, request->instruction, state, &note, &failed))
        {
          note = g_strdup (failed->message);
          g_error_free (failed);
        }
      add_note (outcome, note);
      g_free (note);
    }

  {
    g_autoptr (PtStateModel) model = pt_state_model_parse (state, NULL);

    outcome->summary = model ? pt_state_model_summary (model) : g_strdup (state);
  }
  outcome->state = g_steal_pointer (&state);

out:
  gimp_progress_end ();
  if (engine)
    pt_engine_free (engine);
  pt_frame_clear (&frame);
  pt_filter_settings_clear (&old);
  g_free (state);
  return ok;
}
