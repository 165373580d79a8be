/* run.h — one call of plug-in-pertouch: what it is asked, and what it did. */

#ifndef PERTOUCH_RUN_H
#define PERTOUCH_RUN_H

#include <libgimp/gimp.h>

#include "pixels.h"

typedef enum
{
  PT_APPLY_FILTER,     /* the non-destructive pertouch:retouch filter */
  PT_APPLY_NEW_LAYER,  /* rendered into a copy of the layer above it */
  PT_APPLY_MERGE       /* rendered into the layer itself */
} PtApplyAs;

typedef struct
{
  gchar    *instruction;   /* "" for none */
  gchar    *state;         /* base region state JSON; "" for the filter's or none */
  gboolean  recall;        /* agent "recall": start from the remembered edit */
  gchar    *renderer;      /* "parametric" or "diffusion" */
  gdouble   mix;
  PtApplyAs apply_as;
  gboolean  remember;
  /* Set by the dialog: `state` is the final edit (the instruction was already
   * read there and is kept only for the memory record). */
  gboolean  state_is_final;
  /* Set by the dialog: remove the layer's PerTouch filter instead. */
  gboolean  remove_filter;
} PtRunRequest;

typedef struct
{
  gchar   *state;          /* the region state applied */
  gchar   *summary;        /* ... in words */
  gchar   *note;           /* something the user should know, or NULL */
  gboolean caller_error;   /* a failure caused by the arguments */
} PtRunOutcome;

void     pt_run_request_from_config (PtRunRequest         *request,
                                     GimpProcedureConfig  *config);
void     pt_run_request_clear       (PtRunRequest         *request);
void     pt_run_outcome_clear       (PtRunOutcome         *outcome);
gboolean pt_run_check_drawable      (GimpDrawable         *drawable,
                                     GError              **error);
gchar   *pt_run_engine_config       (const gchar          *renderer);
gchar   *pt_run_read_instruction    (PtEngine             *engine,
                                     const PtFrame        *frame,
                                     const gchar          *instruction,
                                     const gchar          *base,
                                     gboolean             *caller_error,
                                     GError              **error);
gboolean pt_run_apply               (GimpImage            *image,
                                     GimpDrawable         *drawable,
                                     const PtRunRequest   *request,
                                     PtRunOutcome         *outcome,
                                     GError              **error);

#endif /* PERTOUCH_RUN_H */
