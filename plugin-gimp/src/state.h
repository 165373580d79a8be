/* state.h — the region state as the dialog edits it: regions in order, each
 * with up to four attribute changes in level units [-1, 1]. The JSON form is
 * the core's ({"global": {"brightness": 0.1}, "sky": {"temperature": -0.3}});
 * libpertouch normalises synonyms before this parses it. */

#ifndef PERTOUCH_STATE_H
#define PERTOUCH_STATE_H

#include <glib.h>

#define PT_N_ATTRIBUTES 4

/* The attributes in the core's channel order. */
extern const gchar *const pt_attribute_names[PT_N_ATTRIBUTES];

typedef struct
{
  gchar   *name;
  gboolean set[PT_N_ATTRIBUTES];
  gdouble  value[PT_N_ATTRIBUTES];
} PtRegionEdit;

typedef struct
{
  GPtrArray *regions; /* PtRegionEdit*, "global" first when present */
} PtStateModel;

PtStateModel *pt_state_model_new       (void);
void          pt_state_model_free      (PtStateModel       *state);
PtStateModel *pt_state_model_parse     (const gchar        *json,
                                        GError            **error);
gchar        *pt_state_model_to_json   (const PtStateModel *state);
PtRegionEdit *pt_state_model_region    (PtStateModel       *state,
                                        const gchar        *name,
                                        gboolean            create);
void          pt_state_model_remove    (PtStateModel       *state,
                                        const gchar        *name);
gchar        *pt_state_model_summary   (const PtStateModel *state);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (PtStateModel, pt_state_model_free)

#endif /* PERTOUCH_STATE_H */
