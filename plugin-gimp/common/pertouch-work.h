/* pertouch-work.h — how GIMP/GEGL pixels are handed to libpertouch, shared by the
 * GEGL operation and the GIMP plug-in so that both read a layer the same way.
 *
 * libpertouch reads sRGB-encoded samples (8-bit, 16-bit or float, RGB or RGBA).
 * Perceptual 8- and 16-bit sRGB pixels go in as they are, so 8-bit images take the
 * core's fast 8-bit path exactly as the pertouch CLI does; everything else (linear
 * or floating-point precision, other colour spaces, grey) goes through float sRGB,
 * which babl converts to and from without clipping or banding. Pixels with alpha
 * are read with it (straight, not premultiplied) and libpertouch copies it
 * unchanged; pixels without alpha are read without, so none is added.
 */

#ifndef PERTOUCH_WORK_H
#define PERTOUCH_WORK_H

#include <babl/babl.h>
#include <glib.h>
#include <math.h>
#include <string.h>

#include "pertouch.h"

/* A working pixel format: the babl format, its PtDepth, channel count (3 or 4)
 * and bytes per pixel. */
typedef struct
{
  const Babl *format;
  guint32     depth;
  guint32     channels;
  gsize       bpp;
} PertouchWork;

/* The working format for pixels stored as `source` (NULL: float RGBA). */
static inline PertouchWork
pertouch_work_for (const Babl *source)
{
  static const gchar *const names[2][3] = {
    { "R'G'B' u8",  "R'G'B' u16",  "R'G'B' float"  },
    { "R'G'B'A u8", "R'G'B'A u16", "R'G'B'A float" },
  };
  static const guint32 depths[3] = { PT_DEPTH_U8, PT_DEPTH_U16, PT_DEPTH_F32 };
  static const gsize   sizes[3]  = { 1, 2, 4 };
  gboolean     alpha = ! source || babl_format_has_alpha (source);
  gint         kind  = 2;
  PertouchWork w;

  if (source && babl_format_get_space (source) == babl_space ("sRGB"))
    {
      const gchar *model = babl_get_name (babl_format_get_model (source));
      const Babl  *type  = babl_format_get_type (source, 0);
      gboolean     rgb   = model[0] == 'R';
      gboolean     tone  = strchr (model, '\'') != NULL || strchr (model, '~') != NULL;

      if (rgb && tone && type == babl_type ("u8"))
        kind = 0;
      else if (rgb && tone && type == babl_type ("u16"))
        kind = 1;
    }
  w.format   = babl_format (names[alpha][kind]);
  w.depth    = depths[kind];
  w.channels = alpha ? 4 : 3;
  w.bpp      = sizes[kind] * w.channels;
  return w;
}

/* Rows per libpertouch call for a strip `width` pixels wide: enough pixels that
 * every core gets a band, few enough that progress moves and the strip stays
 * small (about 4 megapixels). */
static inline gint
pertouch_strip_rows (gint width,
                     gint height)
{
  gint rows = (4 * 1024 * 1024) / MAX (1, width);

  return MAX (1, MIN (height, rows));
}

/* out = src + mix * (out - src) on the colour channels of `height` rows of
 * `width` pixels; alpha stays as libpertouch wrote it (the source's). */
static inline void
pertouch_mix_rows (const PertouchWork *w,
                   const guchar       *src,
                   gsize               src_stride,
                   guchar             *out,
                   gsize               out_stride,
                   gint                width,
                   gint                height,
                   gdouble             mix)
{
  gint x, y, c;

  for (y = 0; y < height; y++)
    {
      const guchar *s = src + (gsize) y * src_stride;
      guchar       *o = out + (gsize) y * out_stride;

      for (x = 0; x < width; x++)
        for (c = 0; c < 3; c++)
          {
            gsize i = (gsize) x * w->channels + c;

            if (w->depth == PT_DEPTH_U8)
              {
                o[i] = (guchar) lrint (s[i] + mix * ((gdouble) o[i] - s[i]));
              }
            else if (w->depth == PT_DEPTH_U16)
              {
                const guint16 *s16 = (const guint16 *) s;
                guint16       *o16 = (guint16 *) o;

                o16[i] = (guint16) lrint (s16[i] + mix * ((gdouble) o16[i] - s16[i]));
              }
            else
              {
                const gfloat *sf = (const gfloat *) s;
                gfloat       *of = (gfloat *) o;

                of[i] = (gfloat) (sf[i] + mix * (of[i] - sf[i]));
              }
          }
    }
}

/* True when a region state asks for nothing (blank, "{}" or "null"). */
static inline gboolean
pertouch_state_is_empty (const gchar *state)
{
  gchar   *s;
  gboolean empty;

  if (! state)
    return TRUE;
  s = g_strstrip (g_strdup (state));
  empty = s[0] == '\0' || strcmp (s, "{}") == 0 || strcmp (s, "null") == 0;
  g_free (s);
  return empty;
}

#endif /* PERTOUCH_WORK_H */
