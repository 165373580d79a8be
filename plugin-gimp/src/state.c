/* state.c — parsing, writing and summarising region states (json-glib).
 *
 * Only the dialog and the summary need the state's structure; the state the
 * filter stores and libpertouch renders is always the JSON text itself.
 * libpertouch checks and normalises a state first (pt_state_normalize), so
 * synonyms a user typed ("warmth", "all") arrive here as canonical names. */

#include "state.h"

#include <json-glib/json-glib.h>
#include <math.h>
#include <string.h>

#include "pertouch.h"

const gchar *const pt_attribute_names[PT_N_ATTRIBUTES] = {
  "colorfulness", "contrast", "temperature", "brightness"
};

static void
region_free (gpointer data)
{
  PtRegionEdit *r = data;

  g_free (r->name);
  g_free (r);
}

PtStateModel *
pt_state_model_new (void)
{
  PtStateModel *s = g_new0 (PtStateModel, 1);

  s->regions = g_ptr_array_new_with_free_func (region_free);
  return s;
}

void
pt_state_model_free (PtStateModel *state)
{
  if (! state)
    return;
  g_ptr_array_unref (state->regions);
  g_free (state);
}

static gint
attribute_index (const gchar *name)
{
  gint i;

  for (i = 0; i < PT_N_ATTRIBUTES; i++)
    if (strcmp (name, pt_attribute_names[i]) == 0)
      return i;
  return -1;
}

PtRegionEdit *
pt_state_model_region (PtStateModel *state,
                       const gchar  *name,
                       gboolean      create)
{
  PtRegionEdit *r;
  guint         i;

  for (i = 0; i < state->regions->len; i++)
    {
      r = g_ptr_array_index (state->regions, i);
      if (strcmp (r->name, name) == 0)
        return r;
    }
  if (! create)
    return NULL;
  r = g_new0 (PtRegionEdit, 1);
  r->name = g_strdup (name);
  /* The core paints "global" first; keep it first here too. */
  if (strcmp (name, "global") == 0)
    g_ptr_array_insert (state->regions, 0, r);
  else
    g_ptr_array_add (state->regions, r);
  return r;
}

void
pt_state_model_remove (PtStateModel *state,
                       const gchar  *name)
{
  guint i;

  for (i = 0; i < state->regions->len; i++)
    {
      PtRegionEdit *r = g_ptr_array_index (state->regions, i);

      if (strcmp (r->name, name) == 0)
        {
          g_ptr_array_remove_index (state->regions, i);
          return;
        }
    }
}

/* libpertouch's canonical form of `json` (checked, synonyms resolved, numbers
 * short), or NULL with pt_last_error () saying why. */
static gchar *
normalize (const gchar *json)
{
  gsize  needed = 0;
  gchar *out;

  /* The first call only measures (no buffer). */
  if (pt_state_normalize (json, NULL, 0, &needed) != PT_ERR_BUFFER_TOO_SMALL)
    return NULL;
  out = g_malloc (needed);
  if (pt_state_normalize (json, out, needed, &needed) != PT_OK)
    g_clear_pointer (&out, g_free);
  return out;
}

PtStateModel *
pt_state_model_parse (const gchar  *json,
                      GError      **error)
{
  g_autoptr (JsonParser)   parser = json_parser_new ();
  g_autoptr (PtStateModel) state = pt_state_model_new ();
  JsonNode   *root;
  JsonObject *regions;
  GList      *names, *l;
  g_autofree gchar *canonical = NULL;

  if (! json || ! *json)
    return g_steal_pointer (&state);
  canonical = normalize (json);
  if (! canonical)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA, "%s", pt_last_error ());
      return NULL;
    }
  if (! json_parser_load_from_data (parser, canonical, -1, error))
    return NULL;
  root = json_parser_get_root (parser);
  if (! root || JSON_NODE_HOLDS_NULL (root))
    return g_steal_pointer (&state);
  if (! JSON_NODE_HOLDS_OBJECT (root))
    {
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                           "a region state is an object of regions, e.g. "
                           "{\"sky\": {\"temperature\": 0.1}}");
      return NULL;
    }
  regions = json_node_get_object (root);
  names = json_object_get_members (regions);
  for (l = names; l; l = l->next)
    {
      const gchar  *name = l->data;
      JsonNode     *node = json_object_get_member (regions, name);
      PtRegionEdit *r;
      GList        *attrs, *a;

      if (! JSON_NODE_HOLDS_OBJECT (node))
        {
          g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                       "region \"%s\" is not an object of attributes", name);
          g_list_free (names);
          return NULL;
        }
      r = pt_state_model_region (state, name, TRUE);
      attrs = json_object_get_members (json_node_get_object (node));
      for (a = attrs; a; a = a->next)
        {
          JsonNode *v = json_object_get_member (json_node_get_object (node), a->data);
          gint      i = attribute_index (a->data);

          if (i < 0 || ! JSON_NODE_HOLDS_VALUE (v) ||
              (json_node_get_value_type (v) != G_TYPE_DOUBLE &&
               json_node_get_value_type (v) != G_TYPE_INT64))
            {
              g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                           "region \"%s\": \"%s\" is not one of colorfulness, "
                           "contrast, temperature, brightness with a number",
                           name, (const gchar *) a->data);
              g_list_free (attrs);
              g_list_free (names);
              return NULL;
            }
          r->set[i]   = TRUE;
          r->value[i] = CLAMP (json_node_get_double (v), -1.0, 1.0);
        }
      g_list_free (attrs);
    }
  g_list_free (names);
  return g_steal_pointer (&state);
}

gchar *
pt_state_model_to_json (const PtStateModel *state)
{
  g_autoptr (JsonBuilder)   builder = json_builder_new ();
  g_autoptr (JsonGenerator) gen = json_generator_new ();
  g_autoptr (JsonNode)      root = NULL;
  gchar                    *text, *canonical;
  guint                     i;
  gint                      k;

  json_builder_begin_object (builder);
  for (i = 0; i < state->regions->len; i++)
    {
      PtRegionEdit *r = g_ptr_array_index (state->regions, i);
      gboolean      any = FALSE;

      for (k = 0; k < PT_N_ATTRIBUTES; k++)
        any |= r->set[k];
      if (! any)
        continue;
      json_builder_set_member_name (builder, r->name);
      json_builder_begin_object (builder);
      for (k = 0; k < PT_N_ATTRIBUTES; k++)
        if (r->set[k])
          {
            json_builder_set_member_name (builder, pt_attribute_names[k]);
            /* Three decimals: a slider step is 0.01, and the text stays short. */
            json_builder_add_double_value (builder, round (r->value[k] * 1000.0) / 1000.0);
          }
      json_builder_end_object (builder);
    }
  json_builder_end_object (builder);
  root = json_builder_get_root (builder);
  json_generator_set_root (gen, root);
  text = json_generator_to_data (gen, NULL);
  /* json-glib writes doubles in full (0.10000000000000001): store the core's
   * short form. */
  canonical = normalize (text);
  if (canonical)
    {
      g_free (text);
      text = canonical;
    }
  return text;
}

gchar *
pt_state_model_summary (const PtStateModel *state)
{
  GString *s = g_string_new (NULL);
  guint    i;
  gint     k;

  for (i = 0; i < state->regions->len; i++)
    {
      PtRegionEdit *r = g_ptr_array_index (state->regions, i);

      for (k = 0; k < PT_N_ATTRIBUTES; k++)
        if (r->set[k] && fabs (r->value[k]) >= 0.0005)
          g_string_append_printf (s, "%s%s %s %+.2f", s->len ? ", " : "",
                                  r->name, pt_attribute_names[k], r->value[k]);
    }
  if (s->len == 0)
    g_string_assign (s, "no change");
  return g_string_free (s, FALSE);
}
