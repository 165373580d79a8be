/* dialog.c — the interactive "PerTouch…" dialog.
 *
 * Left: a preview of the whole layer, rendered by libpertouch on a small copy
 * (the parametric renderer; levels are measured on an analysis proxy, so the
 * small render shows what the full one will do), with "Show original".
 * Right: the instruction box and Read (the offline agent, on the whole layer,
 * adding to what is there, like Apply in the OpenFX node); the agent's reading
 * as editable sliders per region (the region state), regions added or removed
 * by hand; then the procedure's own settings (agent, renderer, mix, apply-as,
 * remember). OK applies the sliders' state (and an instruction typed but not
 * read yet); "Remove filter" takes the layer's PerTouch filter away. */

#include "dialog.h"

#include <libgimp/gimpui.h>

#include "filter.h"
#include "memory.h"
#include "pixels.h"
#include "state.h"

#define PREVIEW_SIDE     480
#define RESPONSE_REMOVE  1
#define PREVIEW_DELAY_MS 150

/* Regions the built-in segmenter finds, offered in "Add region" (any other name
 * can be typed: installed segmentation models know more). */
static const gchar *const known_regions[] = {
  "global", "sky", "vegetation", "water", "skin", "shadows", "midtones",
  "highlights", "reds", "oranges", "yellows", "greens", "cyans", "blues", "purples",
  NULL
};

static const gchar *const attribute_labels[PT_N_ATTRIBUTES] = {
  "Colorfulness", "Contrast", "Temperature", "Brightness"
};

typedef struct
{
  GimpProcedureConfig *config;
  GimpDrawable        *drawable;
  PtEngine            *engine;
  PtFrame              full;        /* the whole layer, read on the first Read */
  PtFrame              preview;     /* the layer at PREVIEW_SIDE */
  guchar              *shown;       /* the preview as R'G'B'A u8, for display */
  PtStateModel        *state;
  gboolean             recalled;
  gchar               *last_read;
  GtkWidget           *dialog;
  GtkWidget           *area;
  GtkWidget           *original;
  GtkWidget           *entry;
  GtkWidget           *status;
  GtkWidget           *regions;
  GtkWidget           *add_combo;
  guint                render_id;
} Dialog;

static void rebuild_regions (Dialog *d);

static void
set_status (Dialog      *d,
            const gchar *text,
            gboolean     is_error)
{
  gchar *markup = is_error
    ? g_markup_printf_escaped ("<span foreground=\"#c01c28\">%s</span>", text)
    : g_markup_escape_text (text, -1);

  gtk_label_set_markup (GTK_LABEL (d->status), markup);
  g_free (markup);
}

static void
show_summary (Dialog *d)
{
  gchar *summary = pt_state_model_summary (d->state);
  gchar *text = g_strdup_printf ("Edit: %s", summary);

  set_status (d, text, FALSE);
  g_free (text);
  g_free (summary);
}

/* ---- the preview ---- */

static void
draw_frame (Dialog        *d,
            const PtFrame *frame)
{
  const Babl *fish = babl_fish (frame->work.format, babl_format ("R'G'B'A u8"));
  gint        y;

  for (y = 0; y < frame->height; y++)
    babl_process (fish, frame->data + (gsize) y * frame->stride,
                  d->shown + (gsize) y * frame->width * 4, frame->width);
  gimp_preview_area_draw (GIMP_PREVIEW_AREA (d->area), 0, 0,
                          frame->width, frame->height, GIMP_RGBA_IMAGE,
                          d->shown, frame->width * 4);
}

static gboolean
render_preview (gpointer data)
{
  Dialog  *d = data;
  gdouble  mix = 1.0;
  gchar   *json;
  PtFrame  out;
  GError  *error = NULL;

  d->render_id = 0;
  if (gtk_toggle_button_get_active (GTK_TOGGLE_BUTTON (d->original)))
    {
      draw_frame (d, &d->preview);
      return G_SOURCE_REMOVE;
    }
  g_object_get (d->config, "mix", &mix, NULL);
  json = pt_state_model_to_json (d->state);
  if (pt_render_frame (d->engine, &d->preview, json, mix, &out, &error))
    {
      draw_frame (d, &out);
      pt_frame_clear (&out);
      show_summary (d);
    }
  else
    {
      draw_frame (d, &d->preview);
      set_status (d, error->message, TRUE);
      g_error_free (error);
    }
  g_free (json);
  return G_SOURCE_REMOVE;
}

static void
schedule_preview (Dialog *d)
{
  if (d->render_id)
    g_source_remove (d->render_id);
  d->render_id = g_timeout_add (PREVIEW_DELAY_MS, render_preview, d);
}

/* ---- reading an instruction ---- */

/* Reads the typed instruction (and recalls first, for agent "recall") on top
 * of the sliders' state. FALSE, with the reason shown, when it cannot. */
static gboolean
read_instruction (Dialog *d)
{
  const gchar *text = gtk_entry_get_text (GTK_ENTRY (d->entry));
  gchar       *agent = NULL, *base, *read;
  gboolean     caller_error = FALSE;
  GError      *error = NULL;

  set_status (d, "Reading the layer...", FALSE);
  while (gtk_events_pending ())
    gtk_main_iteration ();
  if (! d->full.data && ! pt_frame_read (d->drawable, 0, &d->full, &error))
    goto failed;

  base = pt_state_model_to_json (d->state);
  g_object_get (d->config, "agent", &agent, NULL);
  if (g_strcmp0 (agent, "recall") == 0 && ! d->recalled)
    {
      gchar *recalled = NULL, *note = NULL;

      d->recalled = TRUE;
      if (! pertouch_memory_recall (&d->full, base, &recalled, &note, &error))
        {
          g_free (base);
          goto failed;
        }
      g_free (base);
      base = recalled;
      set_status (d, note, FALSE);
      g_free (note);
    }
  g_free (agent);

  if (*text)
    {
      set_status (d, "Reading the instruction (measuring on a preview)...", FALSE);
      while (gtk_events_pending ())
        gtk_main_iteration ();
      read = pt_run_read_instruction (d->engine, &d->full, text, base, &caller_error, &error);
      g_free (base);
      if (! read)
        goto failed;
    }
  else
    {
      read = base;
    }

  {
    PtStateModel *parsed = pt_state_model_parse (read, &error);

    g_free (read);
    if (! parsed)
      goto failed;
    pt_state_model_free (d->state);
    d->state = parsed;
  }
  g_free (d->last_read);
  d->last_read = g_strdup (text);
  rebuild_regions (d);
  schedule_preview (d);
  return TRUE;

failed:
  set_status (d, error->message, TRUE);
  g_error_free (error);
  return FALSE;
}

static void
on_read (GtkWidget *widget G_GNUC_UNUSED,
         Dialog    *d)
{
  read_instruction (d);
}

/* ---- the region sliders ---- */

static void
on_slider (GtkAdjustment *adj,
           Dialog        *d)
{
  PtRegionEdit *r = g_object_get_data (G_OBJECT (adj), "region");
  gint          i = GPOINTER_TO_INT (g_object_get_data (G_OBJECT (adj), "attribute"));

  r->set[i]   = TRUE;
  r->value[i] = gtk_adjustment_get_value (adj);
  schedule_preview (d);
}

static void
on_remove_region (GtkWidget *button,
                  Dialog    *d)
{
  pt_state_model_remove (d->state, g_object_get_data (G_OBJECT (button), "region-name"));
  rebuild_regions (d);
  schedule_preview (d);
}

static void
on_add_region (GtkWidget *widget G_GNUC_UNUSED,
               Dialog    *d)
{
  gchar *text = gtk_combo_box_text_get_active_text (GTK_COMBO_BOX_TEXT (d->add_combo));
  gchar *name = text ? g_utf8_strdown (g_strstrip (text), -1) : NULL;

  if (name && *name)
    {
      pt_state_model_region (d->state, name, TRUE);
      rebuild_regions (d);
      schedule_preview (d);
    }
  g_free (name);
  g_free (text);
}

static void
rebuild_regions (Dialog *d)
{
  GList *children = gtk_container_get_children (GTK_CONTAINER (d->regions));
  GList *l;
  guint  i;

  for (l = children; l; l = l->next)
    gtk_widget_destroy (l->data);
  g_list_free (children);

  if (d->state->regions->len == 0)
    {
      GtkWidget *hint = gtk_label_new ("No edit yet: type an instruction and press Read, "
                                       "or add a region below.");

      gtk_label_set_line_wrap (GTK_LABEL (hint), TRUE);
      gtk_label_set_xalign (GTK_LABEL (hint), 0.0);
      gtk_box_pack_start (GTK_BOX (d->regions), hint, FALSE, FALSE, 0);
      gtk_widget_show (hint);
    }

  for (i = 0; i < d->state->regions->len; i++)
    {
      PtRegionEdit *r = g_ptr_array_index (d->state->regions, i);
      GtkWidget    *frame = gimp_frame_new (r->name);
      GtkWidget    *vbox = gtk_box_new (GTK_ORIENTATION_VERTICAL, 2);
      GtkWidget    *remove = gtk_button_new_with_label ("Remove");
      gint          k;

      gtk_box_pack_start (GTK_BOX (d->regions), frame, FALSE, FALSE, 0);
      gtk_container_add (GTK_CONTAINER (frame), vbox);
      for (k = 0; k < PT_N_ATTRIBUTES; k++)
        {
          GtkAdjustment *adj = gtk_adjustment_new (r->set[k] ? r->value[k] : 0.0,
                                                   -1.0, 1.0, 0.01, 0.1, 0.0);
          GtkWidget     *scale = gimp_spin_scale_new (adj, attribute_labels[k], 2);

          g_object_set_data (G_OBJECT (adj), "region", r);
          g_object_set_data (G_OBJECT (adj), "attribute", GINT_TO_POINTER (k));
          g_signal_connect (adj, "value-changed", G_CALLBACK (on_slider), d);
          gtk_box_pack_start (GTK_BOX (vbox), scale, FALSE, FALSE, 0);
        }
      g_object_set_data_full (G_OBJECT (remove), "region-name", g_strdup (r->name), g_free);
      g_signal_connect (remove, "clicked", G_CALLBACK (on_remove_region), d);
      gtk_widget_set_halign (remove, GTK_ALIGN_END);
      gtk_box_pack_start (GTK_BOX (vbox), remove, FALSE, FALSE, 0);
      gtk_widget_show_all (frame);
    }
}

/* ---- building and running ---- */

static GtkWidget *
build_left (Dialog *d)
{
  GtkWidget *vbox = gtk_box_new (GTK_ORIENTATION_VERTICAL, 6);
  GtkWidget *frame = gtk_frame_new (NULL);

  gtk_frame_set_shadow_type (GTK_FRAME (frame), GTK_SHADOW_IN);
  d->area = gimp_preview_area_new ();
  gtk_widget_set_size_request (d->area, d->preview.width, d->preview.height);
  gtk_container_add (GTK_CONTAINER (frame), d->area);
  gtk_widget_set_valign (frame, GTK_ALIGN_START);
  gtk_box_pack_start (GTK_BOX (vbox), frame, FALSE, FALSE, 0);

  d->original = gtk_check_button_new_with_mnemonic ("Sho_w original");
  g_signal_connect_swapped (d->original, "toggled", G_CALLBACK (schedule_preview), d);
  gtk_box_pack_start (GTK_BOX (vbox), d->original, FALSE, FALSE, 0);
  return vbox;
}

static GtkWidget *
build_right (Dialog *d)
{
  GtkWidget *vbox = gtk_box_new (GTK_ORIENTATION_VERTICAL, 6);
  GtkWidget *row = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 6);
  GtkWidget *read = gtk_button_new_with_mnemonic ("Rea_d");
  GtkWidget *label = gtk_label_new_with_mnemonic ("_Instruction:");
  GtkWidget *scrolled = gtk_scrolled_window_new (NULL, NULL);
  GtkWidget *add_row = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 6);
  GtkWidget *add = gtk_button_new_with_mnemonic ("Add re_gion");
  gint       i;

  gtk_label_set_xalign (GTK_LABEL (label), 0.0);
  gtk_box_pack_start (GTK_BOX (vbox), label, FALSE, FALSE, 0);
  d->entry = gtk_entry_new ();
  gtk_entry_set_placeholder_text (GTK_ENTRY (d->entry),
                                  "e.g. make the sky a little warmer");
  gtk_entry_set_width_chars (GTK_ENTRY (d->entry), 36);
  gtk_label_set_mnemonic_widget (GTK_LABEL (label), d->entry);
  g_signal_connect (d->entry, "activate", G_CALLBACK (on_read), d);
  g_signal_connect (read, "clicked", G_CALLBACK (on_read), d);
  gtk_box_pack_start (GTK_BOX (row), d->entry, TRUE, TRUE, 0);
  gtk_box_pack_start (GTK_BOX (row), read, FALSE, FALSE, 0);
  gtk_box_pack_start (GTK_BOX (vbox), row, FALSE, FALSE, 0);

  d->status = gtk_label_new (NULL);
  gtk_label_set_line_wrap (GTK_LABEL (d->status), TRUE);
  gtk_label_set_xalign (GTK_LABEL (d->status), 0.0);
  gtk_label_set_max_width_chars (GTK_LABEL (d->status), 48);
  gtk_box_pack_start (GTK_BOX (vbox), d->status, FALSE, FALSE, 0);

  d->regions = gtk_box_new (GTK_ORIENTATION_VERTICAL, 6);
  gtk_scrolled_window_set_policy (GTK_SCROLLED_WINDOW (scrolled),
                                  GTK_POLICY_NEVER, GTK_POLICY_AUTOMATIC);
  gtk_scrolled_window_set_min_content_height (GTK_SCROLLED_WINDOW (scrolled), 280);
  gtk_container_add (GTK_CONTAINER (scrolled), d->regions);
  gtk_box_pack_start (GTK_BOX (vbox), scrolled, TRUE, TRUE, 0);

  d->add_combo = gtk_combo_box_text_new_with_entry ();
  for (i = 0; known_regions[i]; i++)
    gtk_combo_box_text_append_text (GTK_COMBO_BOX_TEXT (d->add_combo), known_regions[i]);
  gtk_combo_box_set_active (GTK_COMBO_BOX (d->add_combo), 1);
  g_signal_connect (add, "clicked", G_CALLBACK (on_add_region), d);
  gtk_box_pack_start (GTK_BOX (add_row), d->add_combo, TRUE, TRUE, 0);
  gtk_box_pack_start (GTK_BOX (add_row), add, FALSE, FALSE, 0);
  gtk_box_pack_start (GTK_BOX (vbox), add_row, FALSE, FALSE, 0);
  return vbox;
}

/* The state the dialog opens with: the layer's filter's, else none. (The
 * `state` of the last run is another photo's edit: it is not carried over.) */
static gboolean
load_initial (Dialog              *d,
              GimpDrawableFilter  *existing,
              GError             **error)
{
  PtFilterSettings old = { 0 };

  if (! existing)
    {
      d->state = pt_state_model_new ();
      return TRUE;
    }
  pt_filter_read (existing, &old);
  d->state = pt_state_model_parse (old.state, error);
  g_object_set (d->config,
                "mix",      old.mix,
                "renderer", old.renderer,
                "apply-as", "filter",
                NULL);
  pt_filter_settings_clear (&old);
  return d->state != NULL;
}

PtDialogOutcome
pt_dialog_run (GimpProcedure        *procedure,
               GimpProcedureConfig  *config,
               GimpImage            *image G_GNUC_UNUSED,
               GimpDrawable         *drawable,
               PtRunRequest         *request,
               GError              **error)
{
  Dialog              d = { 0 };
  GimpDrawableFilter *existing = pt_filter_find (drawable);
  GtkWidget          *hbox, *content;
  PtDialogOutcome     outcome = PT_DIALOG_CANCEL;

  d.config   = config;
  d.drawable = drawable;
  if (pt_engine_new (NULL, &d.engine) != PT_OK)
    {
      g_set_error (error, PT_ERROR, 0, "PerTouch could not start: %s", pt_last_error ());
      return PT_DIALOG_FAILED;
    }
  if (! pt_frame_read (drawable, PREVIEW_SIDE, &d.preview, error) ||
      ! load_initial (&d, existing, error))
    {
      outcome = PT_DIALOG_FAILED;
      goto out;
    }
  d.shown = g_malloc ((gsize) d.preview.width * d.preview.height * 4);

  d.dialog = gimp_procedure_dialog_new (procedure, config, "PerTouch");
  if (existing)
    gtk_dialog_add_button (GTK_DIALOG (d.dialog), "Remo_ve filter", RESPONSE_REMOVE);
  gimp_procedure_dialog_fill_box (GIMP_PROCEDURE_DIALOG (d.dialog), "settings",
                                  "agent", "renderer", "mix", "apply-as", "remember",
                                  NULL);
  gimp_procedure_dialog_fill (GIMP_PROCEDURE_DIALOG (d.dialog), "settings", NULL);

  hbox = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 12);
  gtk_container_set_border_width (GTK_CONTAINER (hbox), 12);
  gtk_box_pack_start (GTK_BOX (hbox), build_left (&d), FALSE, FALSE, 0);
  gtk_box_pack_start (GTK_BOX (hbox), build_right (&d), TRUE, TRUE, 0);
  content = gtk_dialog_get_content_area (GTK_DIALOG (d.dialog));
  gtk_box_pack_start (GTK_BOX (content), hbox, TRUE, TRUE, 0);
  gtk_box_reorder_child (GTK_BOX (content), hbox, 0);
  gtk_widget_show_all (hbox);
  g_signal_connect_swapped (config, "notify::mix", G_CALLBACK (schedule_preview), &d);

  rebuild_regions (&d);
  show_summary (&d);
  schedule_preview (&d);

  while (TRUE)
    {
      gint response = gimp_dialog_run (GIMP_DIALOG (d.dialog));

      if (response == RESPONSE_REMOVE)
        {
          request->remove_filter = TRUE;
          outcome = PT_DIALOG_OK;
          break;
        }
      if (response != GTK_RESPONSE_OK)
        break;
      /* An instruction typed but not read yet is read now; if it cannot be,
       * the dialog stays open with the reason. */
      if (g_strcmp0 (gtk_entry_get_text (GTK_ENTRY (d.entry)), "") != 0 &&
          g_strcmp0 (gtk_entry_get_text (GTK_ENTRY (d.entry)), d.last_read) != 0 &&
          ! read_instruction (&d))
        continue;
      outcome = PT_DIALOG_OK;
      break;
    }

  if (outcome == PT_DIALOG_OK && ! request->remove_filter)
    {
      gchar *apply_as = NULL;

      g_free (request->state);
      request->state = pt_state_model_to_json (d.state);
      request->state_is_final = TRUE;
      g_free (request->instruction);
      request->instruction = g_strdup (d.last_read ? d.last_read : "");
      g_free (request->renderer);
      g_object_get (config,
                    "renderer", &request->renderer,
                    "mix",      &request->mix,
                    "apply-as", &apply_as,
                    "remember", &request->remember,
                    NULL);
      request->apply_as = g_strcmp0 (apply_as, "new-layer") == 0 ? PT_APPLY_NEW_LAYER
                        : g_strcmp0 (apply_as, "merge") == 0     ? PT_APPLY_MERGE
                                                                 : PT_APPLY_FILTER;
      g_free (apply_as);
    }
  /* A photo's state and words are not "last values" for the next photo. */
  g_object_set (config, "state", "", "instruction", "", NULL);
  g_signal_handlers_disconnect_by_data (config, &d);
  if (d.render_id)
    g_source_remove (d.render_id);
  gtk_widget_destroy (d.dialog);

out:
  pt_state_model_free (d.state);
  pt_frame_clear (&d.full);
  pt_frame_clear (&d.preview);
  g_free (d.shown);
  g_free (d.last_read);
  pt_engine_free (d.engine);
  return outcome;
}
