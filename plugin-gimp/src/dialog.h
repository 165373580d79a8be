/* dialog.h — the interactive "PerTouch…" dialog. */

#ifndef PERTOUCH_DIALOG_H
#define PERTOUCH_DIALOG_H

#include <libgimp/gimp.h>

#include "run.h"

typedef enum
{
  PT_DIALOG_OK,
  PT_DIALOG_CANCEL,
  PT_DIALOG_FAILED
} PtDialogOutcome;

/* Shows the dialog for `drawable`; on OK, `request` holds the final state
 * (state_is_final) and the chosen settings, or remove_filter. */
PtDialogOutcome pt_dialog_run (GimpProcedure        *procedure,
                               GimpProcedureConfig  *config,
                               GimpImage            *image,
                               GimpDrawable         *drawable,
                               PtRunRequest         *request,
                               GError              **error);

#endif /* PERTOUCH_DIALOG_H */
