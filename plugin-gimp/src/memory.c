/* memory.c — recall and remember edits in PerTouch's memory (profile "gimp").
 *
 * The memory is the core's store (one locked, atomically replaced file per user
 * and host profile, the same the CLI's --recall/--accept use with profile
 * "cli"); libpertouch describes the photo's scene and matches it. The user is
 * the login name. */

#include "memory.h"

#include <json-glib/json-glib.h>

/* How alike a remembered scene must be to be recalled (the CLI's threshold). */
#define RECALL_SIMILARITY 0.6f

/* Calls `call` with a buffer, growing it once when libpertouch says it needs more. */
typedef PtStatus (*BufferCall) (gpointer data, gchar *out, gsize len, gsize *needed);

static gchar *
with_buffer (BufferCall call,
             gpointer   data,
             PtStatus  *status)
{
  gsize  len = 16 * 1024, needed = 0;
  gchar *out = g_malloc (len);

  *status = call (data, out, len, &needed);
  if (*status == PT_ERR_BUFFER_TOO_SMALL)
    {
      out = g_realloc (out, needed);
      *status = call (data, out, needed, &needed);
    }
  if (*status != PT_OK)
    g_clear_pointer (&out, g_free);
  return out;
}

typedef struct
{
  PtImage      src;
  const gchar *instruction;
  const gchar *state;
} MemoryCall;

static PtStatus
recall_call (gpointer data, gchar *out, gsize len, gsize *needed)
{
  MemoryCall *c = data;

  return pt_memory_recall (&c->src, PT_MEMORY_PROFILE, NULL, c->state,
                                RECALL_SIMILARITY, out, len, needed);
}

static PtStatus
remember_call (gpointer data, gchar *out, gsize len, gsize *needed)
{
  MemoryCall *c = data;

  return pt_memory_remember (&c->src, PT_MEMORY_PROFILE, NULL,
                                  c->instruction, c->state, out, len, needed);
}

static JsonObject *
parse_object (const gchar *json,
              JsonParser  *parser)
{
  JsonNode *root;

  if (! json_parser_load_from_data (parser, json, -1, NULL))
    return NULL;
  root = json_parser_get_root (parser);
  return root && JSON_NODE_HOLDS_OBJECT (root) ? json_node_get_object (root) : NULL;
}

gboolean
pertouch_memory_recall (const PtFrame *frame,
                  const gchar   *base_state,
                  gchar        **state,
                  gchar        **note,
                  GError       **error)
{
  MemoryCall             call = { pt_frame_image (frame), NULL, base_state };
  g_autoptr (JsonParser) parser = json_parser_new ();
  g_autoptr (JsonGenerator) gen = json_generator_new ();
  JsonObject            *o;
  PtStatus               st;
  gchar                 *json = with_buffer (recall_call, &call, &st);

  if (! json)
    {
      g_set_error (error, PT_ERROR, 0, "PerTouch could not read its memory: %s",
                   pt_last_error ());
      return FALSE;
    }
  o = parse_object (json, parser);
  if (! o || ! json_object_has_member (o, "state"))
    {
      g_set_error (error, PT_ERROR, 0, "unexpected answer from libpertouch: %s", json);
      g_free (json);
      return FALSE;
    }
  json_generator_set_root (gen, json_object_get_member (o, "state"));
  *state = json_generator_to_data (gen, NULL);
  if (json_object_get_boolean_member_with_default (o, "recalled", FALSE))
    {
      const gchar *words = json_object_get_string_member_with_default (o, "instruction", "");

      *note = g_strdup_printf ("PerTouch recalled your edit of a similar photo "
                               "(similarity %.2f%s%s%s)",
                               json_object_get_double_member_with_default (o, "similarity", 0),
                               *words ? ", \"" : "", words, *words ? "\"" : "");
    }
  else
    {
      *note = g_strdup ("PerTouch remembers no edit of a photo like this one yet; "
                        "it started fresh");
    }
  g_free (json);
  return TRUE;
}

gboolean
pertouch_memory_remember (const PtFrame *frame,
                    const gchar   *instruction,
                    const gchar   *state,
                    gchar        **note,
                    GError       **error)
{
  MemoryCall             call = { pt_frame_image (frame), instruction, state };
  g_autoptr (JsonParser) parser = json_parser_new ();
  JsonObject            *o;
  PtStatus               st;
  gchar                 *json = with_buffer (remember_call, &call, &st);

  if (! json)
    {
      g_set_error (error, PT_ERROR, 0, "PerTouch could not remember this edit: %s",
                   pt_last_error ());
      return FALSE;
    }
  o = parse_object (json, parser);
  if (o && json_object_has_member (o, "set_aside") &&
      ! json_object_get_null_member (o, "set_aside"))
    *note = g_strdup_printf ("PerTouch's memory file was damaged; it was moved to %s "
                             "and a new one started",
                             json_object_get_string_member (o, "set_aside"));
  g_free (json);
  return TRUE;
}
