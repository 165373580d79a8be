/* pertouch-plugin.c — the GIMP 3 plug-in "PerTouch…" (procedure plug-in-pertouch).
 *
 * Reads an instruction with libpertouch's offline agent (which measures the
 * change it asks for on a preview and adjusts, like `pertouch retouch --say`),
 * and applies the resulting region state to the selected layer:
 *   - apply-as "filter" (default): as the non-destructive pertouch:retouch filter
 *     (GIMP runs it in its own process; re-open the plug-in to change it, or
 *     remove it from the layer's effects);
 *   - "new-layer": rendered here, into a copy of the layer above it;
 *   - "merge": rendered here, into the layer itself.
 * The selection is honoured either way (GIMP keeps it as the filter's mask, or
 * blends the shadow buffer through it). Everything is one undo step. In
 * interactive mode a dialog shows the agent's reading as per-region sliders and
 * a preview (dialog.c); otherwise the arguments alone drive it. Procedure and
 * argument names are a stable scripting interface: see plugin-gimp/README.md. */

#include <libgimp/gimp.h>
#include <libgimp/gimpui.h>

#include "dialog.h"
#include "filter.h"
#include "memory.h"
#include "pixels.h"
#include "run.h"
#include "state.h"

#define PLUG_IN_PROC   "plug-in-pertouch"
#define PLUG_IN_BINARY "pertouch"

typedef struct _PerTouch      PerTouch;
typedef struct _PerTouchClass PerTouchClass;

struct _PerTouch
{
  GimpPlugIn parent_instance;
};

struct _PerTouchClass
{
  GimpPlugInClass parent_class;
};

#define PERTOUCH_TYPE (pertouch_get_type ())
GType pertouch_get_type (void) G_GNUC_CONST;

static GList         *pertouch_query_procedures (GimpPlugIn           *plug_in);
static GimpProcedure *pertouch_create_procedure (GimpPlugIn           *plug_in,
                                                 const gchar          *name);
static gboolean       pertouch_set_i18n         (GimpPlugIn           *plug_in,
                                                 const gchar          *procedure_name,
                                                 gchar               **gettext_domain,
                                                 gchar               **catalog_dir);
static GimpValueArray *pertouch_run             (GimpProcedure        *procedure,
                                                 GimpRunMode           run_mode,
                                                 GimpImage            *image,
                                                 GimpDrawable        **drawables,
                                                 GimpProcedureConfig  *config,
                                                 gpointer              run_data);

G_DEFINE_TYPE (PerTouch, pertouch, GIMP_TYPE_PLUG_IN)

GIMP_MAIN (PERTOUCH_TYPE)

static void
pertouch_class_init (PerTouchClass *klass)
{
  GimpPlugInClass *plug_in_class = GIMP_PLUG_IN_CLASS (klass);

  plug_in_class->query_procedures = pertouch_query_procedures;
  plug_in_class->create_procedure = pertouch_create_procedure;
  plug_in_class->set_i18n         = pertouch_set_i18n;
}

static void
pertouch_init (PerTouch *pertouch G_GNUC_UNUSED)
{
}

static GList *
pertouch_query_procedures (GimpPlugIn *plug_in G_GNUC_UNUSED)
{
  return g_list_append (NULL, g_strdup (PLUG_IN_PROC));
}

/* English only for now: no catalogs to look for. */
static gboolean
pertouch_set_i18n (GimpPlugIn   *plug_in G_GNUC_UNUSED,
                   const gchar  *procedure_name G_GNUC_UNUSED,
                   gchar       **gettext_domain G_GNUC_UNUSED,
                   gchar       **catalog_dir G_GNUC_UNUSED)
{
  return FALSE;
}

static GimpProcedure *
pertouch_create_procedure (GimpPlugIn  *plug_in,
                           const gchar *name)
{
  GimpProcedure *procedure;

  if (g_strcmp0 (name, PLUG_IN_PROC) != 0)
    return NULL;

  procedure = gimp_image_procedure_new (plug_in, name, GIMP_PDB_PROC_TYPE_PLUGIN,
                                        pertouch_run, NULL, NULL);
  gimp_procedure_set_image_types (procedure, "RGB*");
  gimp_procedure_set_sensitivity_mask (procedure, GIMP_PROCEDURE_SENSITIVE_DRAWABLE);
  gimp_procedure_set_menu_label (procedure, "_PerTouch...");
  gimp_procedure_add_menu_path (procedure, "<Image>/Colors");
  gimp_procedure_set_documentation
    (procedure,
     "Retouch regions by words: colorfulness, contrast, temperature and "
     "brightness of sky, skin, vegetation, water, shadows, ...",
     "Reads an instruction (\"make the sky a little warmer\") with PerTouch's "
     "offline agent, which finds the regions it names, measures the change it "
     "asks for and adjusts until the measurement agrees, then applies the "
     "resulting region state to the layer: as the non-destructive "
     "pertouch:retouch filter (apply-as \"filter\"), rendered into a copy of the "
     "layer (\"new-layer\") or into the layer itself (\"merge\"). The selection "
     "is honoured. An explicit region state (JSON, changes in level units "
     "[-1, 1]) can be given instead of or before an instruction.",
     PLUG_IN_PROC);
  gimp_procedure_set_attribution (procedure, "PerTouch contributors",
                                  "PerTouch contributors", "2026");

  gimp_procedure_add_string_argument
    (procedure, "instruction", "_Instruction",
     "What to do, in words: \"make the sky a little warmer\", \"brighter faces, "
     "less saturated grass\", \"cinematic\", \"make it look better\". Applied on "
     "top of the state. Empty: apply the state as it is.",
     "", G_PARAM_READWRITE);
  gimp_procedure_add_string_argument
    (procedure, "state", "Region _state",
     "The region state to start from, as JSON: changes per region in level "
     "units [-1, 1], e.g. {\"global\": {\"brightness\": 0.1}, \"sky\": "
     "{\"temperature\": -0.3}}. Empty: the layer's PerTouch filter's state if it "
     "has one, else no change.",
     "", G_PARAM_READWRITE);
  gimp_procedure_add_choice_argument
    (procedure, "agent", "Agen_t",
     "Who reads the instruction: \"offline\" (PerTouch's built-in reader, no "
     "network) or \"recall\" (first start from the edit you remembered for the "
     "most similar photo, then the offline reader)",
     gimp_choice_new_with_values ("offline", 0, "Offline", NULL,
                                  "recall", 1, "Recall, then offline", NULL,
                                  NULL),
     "offline", G_PARAM_READWRITE);
  gimp_procedure_add_choice_argument
    (procedure, "renderer", "Re_nderer",
     "\"parametric\" (fast, exact to the measured levels, no model files) or "
     "\"diffusion\" (PerTouch's own model from an installed package; slow on a CPU)",
     gimp_choice_new_with_values ("parametric", 0, "Parametric", NULL,
                                  "diffusion", 1, "Diffusion", NULL,
                                  NULL),
     "parametric", G_PARAM_READWRITE);
  gimp_procedure_add_double_argument
    (procedure, "mix", "_Mix",
     "0 keeps the layer as it is, 1 applies the whole edit, in between a blend",
     0.0, 1.0, 1.0, G_PARAM_READWRITE);
  gimp_procedure_add_choice_argument
    (procedure, "apply-as", "Apply _as",
     "\"filter\": the non-destructive pertouch:retouch filter on the layer; "
     "\"new-layer\": rendered into a copy of the layer above it; \"merge\": "
     "rendered into the layer itself",
     gimp_choice_new_with_values ("filter", 0, "Non-destructive filter", NULL,
                                  "new-layer", 1, "New layer (destructive)", NULL,
                                  "merge", 2, "Merge into the layer (destructive)", NULL,
                                  NULL),
     "filter", G_PARAM_READWRITE);
  gimp_procedure_add_boolean_argument
    (procedure, "remember", "Remem_ber this edit",
     "Remember the edit for this kind of photo (PerTouch's memory, host profile "
     "\"gimp\"), for agent \"recall\" on later photos",
     FALSE, G_PARAM_READWRITE);

  gimp_procedure_add_string_return_value
    (procedure, "state", "Region state",
     "The region state applied, as JSON", "", G_PARAM_READWRITE);
  gimp_procedure_add_string_return_value
    (procedure, "summary", "Summary",
     "What was applied, in words (\"sky temperature +0.10\")", "", G_PARAM_READWRITE);

  return procedure;
}

static GimpValueArray *
fail (GimpProcedure     *procedure,
      GimpPDBStatusType  status,
      GError            *error)
{
  return gimp_procedure_new_return_values (procedure, status, error);
}

static GimpValueArray *
pertouch_run (GimpProcedure       *procedure,
              GimpRunMode          run_mode,
              GimpImage           *image,
              GimpDrawable       **drawables,
              GimpProcedureConfig *config,
              gpointer             run_data G_GNUC_UNUSED)
{
  GimpDrawable   *drawable;
  PtRunRequest    request = { 0 };
  PtRunOutcome    outcome = { 0 };
  GimpValueArray *ret;
  GError         *error = NULL;
  gint            n = gimp_core_object_array_get_length ((GObject **) drawables);

  gegl_init (NULL, NULL);

  if (n != 1)
    return fail (procedure, GIMP_PDB_CALLING_ERROR,
                 g_error_new (PT_ERROR, 0,
                              "PerTouch works on one layer at a time: select exactly "
                              "one layer (%d are selected)", n));
  drawable = drawables[0];
  if (! pt_run_check_drawable (drawable, &error))
    return fail (procedure, GIMP_PDB_CALLING_ERROR, error);

  pt_run_request_from_config (&request, config);

  if (run_mode == GIMP_RUN_INTERACTIVE)
    {
      PtDialogOutcome choice;

      gimp_ui_init (PLUG_IN_BINARY);
      choice = pt_dialog_run (procedure, config, image, drawable, &request, &error);
      if (choice == PT_DIALOG_CANCEL)
        {
          pt_run_request_clear (&request);
          return gimp_procedure_new_return_values (procedure, GIMP_PDB_CANCEL, NULL);
        }
      if (choice == PT_DIALOG_FAILED)
        {
          pt_run_request_clear (&request);
          return fail (procedure, GIMP_PDB_EXECUTION_ERROR, error);
        }
    }

  if (! pt_run_apply (image, drawable, &request, &outcome, &error))
    {
      GimpPDBStatusType status = outcome.caller_error ? GIMP_PDB_CALLING_ERROR
                                                      : GIMP_PDB_EXECUTION_ERROR;

      pt_run_request_clear (&request);
      pt_run_outcome_clear (&outcome);
      return fail (procedure, status, error);
    }

  ret = gimp_procedure_new_return_values (procedure, GIMP_PDB_SUCCESS, NULL);
  GIMP_VALUES_SET_STRING (ret, 1, outcome.state);
  GIMP_VALUES_SET_STRING (ret, 2, outcome.summary);
  if (outcome.note)
    gimp_message (outcome.note);
  pt_run_request_clear (&request);
  pt_run_outcome_clear (&outcome);
  return ret;
}
