/* Drives pertouch:retouch through GEGL's own API, as GIMP's projection does:
 * the whole frame, four tiles asked for one by one, a zoomed-out (mipmap level
 * 1) render, mix, and an input with no bounds. Built against the host's GEGL
 * and run by tests/gimp_plugin.rs; the operation is found through
 * XDG_DATA_HOME/gegl-0.4/plug-ins. Usage: gegl_op_test PHOTO.png STATE_JSON.
 * Exits non-zero if any check failed. */
#include <gegl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int failures = 0;
#define CHECK(cond, ...)                                                       \
  do                                                                           \
    {                                                                          \
      if (!(cond))                                                             \
        {                                                                      \
          fprintf (stderr, "FAILED %s:%d: ", __FILE__, __LINE__);              \
          fprintf (stderr, __VA_ARGS__);                                       \
          fprintf (stderr, "\n");                                              \
          failures++;                                                          \
        }                                                                      \
    }                                                                          \
  while (0)

/* A graph photo -> pertouch:retouch; returns the operation node. */
static GeglNode *
graph (GeglNode *root, const char *photo, const char *state, double mix)
{
  GeglNode *load = gegl_node_new_child (root, "operation", "gegl:load", "path", photo, NULL);
  GeglNode *op = gegl_node_new_child (root, "operation", "pertouch:retouch",
                                      "state", state, "mix", mix, NULL);

  gegl_node_link (load, op);
  return op;
}

/* `r` of `node` at `scale` as R'G'B'A u8 (rows of r.width). */
static guchar *
blit (GeglNode *node, GeglRectangle r, double scale)
{
  guchar *buf = g_malloc0 ((gsize) r.width * r.height * 4);

  gegl_node_blit (node, scale, &r, babl_format ("R'G'B'A u8"), buf, GEGL_AUTO_ROWSTRIDE,
                  GEGL_BLIT_DEFAULT);
  return buf;
}

static int
max_diff (const guchar *a, const guchar *b, gsize n)
{
  int worst = 0;

  for (gsize i = 0; i < n; i++)
    {
      int d = abs ((int) a[i] - (int) b[i]);

      if (d > worst)
        worst = d;
    }
  return worst;
}

int
main (int argc, char **argv)
{
  GeglNode     *root, *op, *plain;
  GeglRectangle frame;
  guchar       *full, *orig;
  int           w, h;

  if (argc != 3)
    {
      fprintf (stderr, "usage: %s PHOTO STATE_JSON\n", argv[0]);
      return 2;
    }
  gegl_init (&argc, &argv);
  g_object_set (gegl_config (), "mipmap-rendering", TRUE, NULL);
  CHECK (gegl_has_operation ("pertouch:retouch"), "pertouch:retouch is not installed");
  if (failures)
    return 1;

  root  = gegl_node_new ();
  op    = graph (root, argv[1], argv[2], 1.0);
  frame = gegl_node_get_bounding_box (op);
  w = frame.width;
  h = frame.height;
  CHECK (w > 64 && h > 64, "frame %dx%d", w, h);
  full = blit (op, frame, 1.0);
  plain = gegl_node_new_child (root, "operation", "gegl:load", "path", argv[1], NULL);
  orig = blit (plain, frame, 1.0);
  CHECK (max_diff (full, orig, (gsize) w * h * 4) > 10, "the operation changed nothing");

  /* Four tiles, each asked for alone from a fresh graph: the same pixels as the
   * whole frame (the operation always plans on the whole input). */
  {
    GeglNode *r2 = gegl_node_new ();
    GeglNode *o2 = graph (r2, argv[1], argv[2], 1.0);
    int       worst = 0;

    for (int t = 0; t < 4; t++)
      {
        GeglRectangle q = { (t % 2) * (w / 2), (t / 2) * (h / 2),
                            t % 2 ? w - w / 2 : w / 2, t / 2 ? h - h / 2 : h / 2 };
        guchar *tile = blit (o2, q, 1.0);

        for (int y = 0; y < q.height; y++)
          {
            int d = max_diff (tile + (gsize) y * q.width * 4,
                              full + ((gsize) (q.y + y) * w + q.x) * 4, (gsize) q.width * 4);
            worst = d > worst ? d : worst;
          }
        g_free (tile);
      }
    CHECK (worst == 0, "tiles differ from the whole frame by %d/255", worst);
    g_object_unref (r2);
  }

  /* Zoomed out (GIMP renders the projection at mipmap levels): close to the
   * full render scaled down. */
  {
    GeglNode     *r3 = gegl_node_new ();
    GeglNode     *o3 = graph (r3, argv[1], argv[2], 1.0);
    GeglRectangle half = { 0, 0, w / 2, h / 2 };
    guchar       *small = blit (o3, half, 0.5);
    double        sum = 0, sum_orig = 0;

    for (int y = 0; y < half.height; y++)
      for (int x = 0; x < half.width; x++)
        for (int c = 0; c < 3; c++)
          {
            double m = 0, mo = 0;

            for (int k = 0; k < 4; k++)
              {
                gsize i = ((gsize) (2 * y + k / 2) * w + 2 * x + k % 2) * 4 + c;

                m += full[i] / 4.0;
                mo += orig[i] / 4.0;
              }
            sum += fabs (small[((gsize) y * half.width + x) * 4 + c] - m);
            sum_orig += fabs (mo - m);
          }
    sum /= (double) half.width * half.height * 3;
    sum_orig /= (double) half.width * half.height * 3;
    printf ("level 1: mean difference %.2f/255 from the full render scaled down "
            "(the unedited photo: %.2f)\n", sum, sum_orig);
    CHECK (sum < 2.0 && sum < sum_orig / 3, "level 1 render is %.2f/255 off (unedited %.2f)",
           sum, sum_orig);
    g_free (small);
    g_object_unref (r3);
  }

  /* Mix 0.5 lands halfway; mix 0 passes the input through. */
  {
    GeglNode *r4 = gegl_node_new ();
    GeglNode *o4 = graph (r4, argv[1], argv[2], 0.5);
    guchar   *halfway = blit (o4, frame, 1.0);
    int       worst = 0;

    for (gsize i = 0; i < (gsize) w * h * 4; i++)
      {
        int d = abs ((int) halfway[i] * 2 - (int) full[i] - (int) orig[i]);

        worst = d > worst ? d : worst;
      }
    CHECK (worst <= 2, "mix 0.5 is %d/510 from halfway", worst);
    gegl_node_set (o4, "mix", 0.0, NULL);
    g_free (halfway);
    halfway = blit (o4, frame, 1.0);
    CHECK (max_diff (halfway, orig, (gsize) w * h * 4) == 0, "mix 0 changed pixels");
    g_free (halfway);
    g_object_unref (r4);
  }

  /* An input with no bounds (an infinite plane) passes through, no hang. */
  {
    GeglNode     *r5 = gegl_node_new ();
    GeglNode     *src = gegl_node_new_child (r5, "operation", "gegl:checkerboard", NULL);
    GeglNode     *o5 = gegl_node_new_child (r5, "operation", "pertouch:retouch",
                                            "state", argv[2], NULL);
    GeglRectangle r = { 0, 0, 64, 64 };
    guchar       *a, *b;

    gegl_node_link (src, o5);
    a = blit (o5, r, 1.0);
    b = blit (src, r, 1.0);
    CHECK (max_diff (a, b, 64 * 64 * 4) == 0, "infinite input was not passed through");
    g_free (a);
    g_free (b);
    g_object_unref (r5);
  }

  g_free (full);
  g_free (orig);
  g_object_unref (root);
  gegl_exit ();
  if (failures)
    {
      fprintf (stderr, "%d check(s) failed\n", failures);
      return 1;
    }
  printf ("all GEGL operation checks passed\n");
  return 0;
}
