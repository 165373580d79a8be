/* Drives the PerTouch C ABI as a host would: render, agent, bad handles, null
 * pointers, malformed input, cancellation mid-render; hostile.c adds what a
 * hostile or careless host does. Built and run by capi/tests/c_program.rs, as it
 * is and under AddressSanitizer; exits non-zero if any check failed. Arguments
 * (optional) name the groups to run: basic, and those of hostile.c. */
#include "test_support.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int failures = 0;

/* A photo-like test frame: blue sky above, green field below, some texture. */
uint8_t *make_rgb(uint32_t w, uint32_t h) {
  uint8_t *p = malloc((size_t)w * h * 3);
  for (uint32_t y = 0; y < h; y++)
    for (uint32_t x = 0; x < w; x++) {
      uint8_t *q = p + ((size_t)y * w + x) * 3;
      int t = (int)((x * 7 + y * 13) % 23);
      if (y < h * 2 / 5) {
        q[0] = (uint8_t)(90 + y * 40 / h + t);
        q[1] = (uint8_t)(140 + y * 30 / h);
        q[2] = (uint8_t)(215 - t);
      } else {
        q[0] = (uint8_t)(70 + t);
        q[1] = (uint8_t)(130 + t * 2);
        q[2] = (uint8_t)(40 + t);
      }
    }
  return p;
}

static double mean_u8(const uint8_t *p, size_t n) {
  double s = 0;
  for (size_t i = 0; i < n; i++) s += p[i];
  return s / (double)n;
}

PtImage view(void *data, uint32_t w, uint32_t h, uint32_t ch, uint32_t depth, size_t bytes) {
  PtImage v = {data, w, h, (uintptr_t)w * ch * bytes, ch, depth};
  return v;
}

struct cancel_ctx {
  PtCancel *token;
  int calls;
};

static void cancel_on_first_progress(void *user, const char *stage, float fraction) {
  struct cancel_ctx *c = user;
  (void)stage;
  (void)fraction;
  if (c->calls++ == 0) pt_cancel_request(c->token);
}

static void count_progress(void *user, const char *stage, float fraction) {
  (void)stage;
  if (fraction >= 0.0f && fraction <= 1.0f) (*(int *)user)++;
}

/* What every host does: render, tiles, the agent, bad arguments and handles,
 * cancellation, the diffusion renderer. */
static void basic_checks(void) {
  CHECK(pt_abi_version() == PT_ABI_VERSION, "ABI version %u", pt_abi_version());

  const uint32_t W = 96, H = 64;
  uint8_t *src_px = make_rgb(W, H);
  PtImage src = view(src_px, W, H, 3, PT_DEPTH_U8, 1);

  PtEngine *engine = NULL;
  CHECK(pt_engine_new(NULL, &engine) == PT_OK && engine != NULL, "engine_new");

  /* Render: brighter and warmer, 8-bit out. */
  uint8_t *dst_px = calloc((size_t)W * H * 3, 1);
  PtImage dst = view(dst_px, W, H, 3, PT_DEPTH_U8, 1);
  int progress_calls = 0;
  PtStatus s = pt_render(engine, &src, "{\"global\": {\"brightness\": 0.3}}", 1.0f, NULL, &dst,
                         count_progress, &progress_calls, NULL);
  CHECK(s == PT_OK, "render: %d", s);
  CHECK(mean_u8(dst_px, (size_t)W * H * 3) > mean_u8(src_px, (size_t)W * H * 3) + 5.0,
        "brighter: %.1f -> %.1f", mean_u8(src_px, (size_t)W * H * 3), mean_u8(dst_px, (size_t)W * H * 3));
  CHECK(progress_calls > 0, "progress was reported");
  CHECK(strcmp(pt_last_error(), "") == 0, "no error after success: %s", pt_last_error());

  /* A region, found by the built-in segmenter; float output of a half-scale tile. */
  PtRect roi = {8, 4, 24, 16};
  uint32_t ow = 0, oh = 0;
  CHECK(pt_output_size(W, H, 0.5f, &roi, &ow, &oh) == PT_OK && ow == 24 && oh == 16, "output size %ux%u", ow, oh);
  float *fdst = calloc((size_t)ow * oh * 3, sizeof(float));
  PtImage fview = view(fdst, ow, oh, 3, PT_DEPTH_F32, 4);
  s = pt_render(engine, &src, "{\"sky\": {\"temperature\": -0.3}}", 0.5f, &roi, &fview, NULL, NULL, NULL);
  CHECK(s == PT_OK, "tile render: %d", s);
  CHECK(fdst[0] > 0.0f && fdst[0] <= 1.0f, "float sample %f", fdst[0]);

  /* Tiles: a 2 x 2 split of the frame, rendered one ROI at a time, equals the full
   * frame; the frame is segmented and planned once, the tiles reuse the plan. */
  {
    const char *state = "{\"sky\": {\"temperature\": 0.25}, \"global\": {\"contrast\": 0.15}}";
    uint64_t hits0 = 0, misses0 = 0, hits1 = 0, misses1 = 0;
    CHECK(pt_engine_cache_stats(engine, &hits0, &misses0) == PT_OK, "stats");
    uint8_t *full = calloc((size_t)W * H * 3, 1), *tiled = calloc((size_t)W * H * 3, 1);
    PtImage fullv = view(full, W, H, 3, PT_DEPTH_U8, 1);
    CHECK(pt_render(engine, &src, state, 1.0f, NULL, &fullv, NULL, NULL, NULL) == PT_OK, "full frame");
    for (uint32_t ty = 0; ty < 2; ty++)
      for (uint32_t tx = 0; tx < 2; tx++) {
        PtRect r = {tx * W / 2, ty * H / 2, W / 2, H / 2};
        /* The tile's pixels land in place inside the whole-frame buffer. */
        PtImage tv = {tiled + ((size_t)r.y * W + r.x) * 3, r.width, r.height, (uintptr_t)W * 3, 3, PT_DEPTH_U8};
        CHECK(pt_render(engine, &src, state, 1.0f, &r, &tv, NULL, NULL, NULL) == PT_OK, "tile %u,%u", tx, ty);
      }
    int worst = 0;
    for (size_t i = 0; i < (size_t)W * H * 3; i++) {
      int d = abs((int)full[i] - (int)tiled[i]);
      if (d > worst) worst = d;
    }
    CHECK(worst <= 1, "tiles differ from the full frame by %d/255", worst);
    CHECK(pt_engine_cache_stats(engine, &hits1, &misses1) == PT_OK, "stats");
    CHECK(misses1 - misses0 == 1 && hits1 - hits0 == 4, "planned %llu times, reused %llu times",
          (unsigned long long)(misses1 - misses0), (unsigned long long)(hits1 - hits0));
    free(full);
    free(tiled);
  }

  /* Frames rendered out of order (A, B, A) keep their plans: A is not re-planned. */
  {
    const char *state = "{\"global\": {\"colorfulness\": 0.2}}";
    uint8_t *other_px = make_rgb(W, H);
    for (size_t i = 0; i < (size_t)W * H * 3; i += 7) other_px[i] = (uint8_t)(255 - other_px[i]);
    PtImage other = view(other_px, W, H, 3, PT_DEPTH_U8, 1);
    uint64_t h0 = 0, m0 = 0, h1 = 0, m1 = 0;
    CHECK(pt_engine_cache_stats(engine, &h0, &m0) == PT_OK, "stats");
    CHECK(pt_render(engine, &src, state, 1.0f, NULL, &dst, NULL, NULL, NULL) == PT_OK, "frame A");
    CHECK(pt_render(engine, &other, state, 1.0f, NULL, &dst, NULL, NULL, NULL) == PT_OK, "frame B");
    CHECK(pt_render(engine, &src, state, 1.0f, NULL, &dst, NULL, NULL, NULL) == PT_OK, "frame A again");
    CHECK(pt_engine_cache_stats(engine, &h1, &m1) == PT_OK, "stats");
    CHECK(m1 - m0 == 2 && h1 - h0 == 1, "A, B, A: planned %llu, reused %llu", (unsigned long long)(m1 - m0),
          (unsigned long long)(h1 - h0));
    free(other_px);
  }

  /* The agent: a state JSON back; too small a buffer says how much is needed. */
  char small[4];
  size_t needed = 0;
  s = pt_agent_apply(engine, &src, "make it a bit brighter", NULL, small, sizeof small, &needed);
  CHECK(s == PT_ERR_BUFFER_TOO_SMALL && needed > sizeof small, "too small: %d, needed %zu", s, needed);
  char *json = malloc(needed);
  s = pt_agent_apply(engine, &src, "make it a bit brighter", NULL, json, needed, &needed);
  CHECK(s == PT_OK, "agent: %d", s);
  CHECK(strstr(json, "\"brightness\"") != NULL, "agent state: %s", json);
  s = pt_agent_apply(engine, &src, "zorp the blarg", NULL, json, needed, NULL);
  CHECK(s == PT_ERR_INVALID && strlen(pt_last_error()) > 0, "nonsense instruction: %d", s);

  /* Null pointers and malformed views. */
  CHECK(pt_engine_new(NULL, NULL) == PT_ERR_NULL, "engine_new(NULL out)");
  CHECK(pt_render(NULL, &src, "{}", 1.0f, NULL, &dst, NULL, NULL, NULL) == PT_ERR_NULL, "null engine");
  CHECK(pt_render(engine, NULL, "{}", 1.0f, NULL, &dst, NULL, NULL, NULL) == PT_ERR_NULL, "null src");
  CHECK(pt_render(engine, &src, NULL, 1.0f, NULL, &dst, NULL, NULL, NULL) == PT_ERR_NULL, "null state");
  PtImage no_data = src;
  no_data.data = NULL;
  CHECK(pt_render(engine, &no_data, "{}", 1.0f, NULL, &dst, NULL, NULL, NULL) == PT_ERR_INVALID, "null data");
  PtImage misaligned = view((char *)fdst + 1, ow, oh, 3, PT_DEPTH_F32, 4);
  CHECK(pt_render(engine, &src, "{}", 0.5f, &roi, &misaligned, NULL, NULL, NULL) == PT_ERR_INVALID, "misaligned f32");
  CHECK(strstr(pt_last_error(), "aligned") != NULL, "says why: %s", pt_last_error());
  PtImage bad_depth = src;
  bad_depth.depth = 7;
  CHECK(pt_render(engine, &bad_depth, "{}", 1.0f, NULL, &dst, NULL, NULL, NULL) == PT_ERR_INVALID, "depth 7");
  PtImage short_rows = src;
  short_rows.row_bytes = 10;
  CHECK(pt_render(engine, &short_rows, "{}", 1.0f, NULL, &dst, NULL, NULL, NULL) == PT_ERR_INVALID, "short rows");
  CHECK(pt_render(engine, &src, "{\"global\": {\"brightnes\": 0.1}", 1.0f, NULL, &dst, NULL, NULL, NULL) == PT_ERR_INVALID,
        "malformed state");
  CHECK(pt_render(engine, &src, "{\"unicorn\": {\"brightness\": 0.1}}", 1.0f, NULL, &dst, NULL, NULL, NULL) == PT_ERR_MODEL,
        "unknown region");
  CHECK(pt_render(engine, &src, "{}", 0.0f, NULL, &dst, NULL, NULL, NULL) == PT_ERR_INVALID, "scale 0");
  CHECK(pt_render(engine, &src, "{}", 0.5f, NULL, &dst, NULL, NULL, NULL) == PT_ERR_INVALID, "dst of the wrong size");

  /* Bad handles: forged, wrong kind, freed. */
  PtEngine *forged = (PtEngine *)(uintptr_t)0x1234;
  CHECK(pt_render(forged, &src, "{}", 1.0f, NULL, &dst, NULL, NULL, NULL) == PT_ERR_BAD_HANDLE, "forged engine");
  PtCancel *token = NULL;
  CHECK(pt_cancel_new(&token) == PT_OK, "cancel_new");
  CHECK(pt_render((PtEngine *)token, &src, "{}", 1.0f, NULL, &dst, NULL, NULL, NULL) == PT_ERR_BAD_HANDLE,
        "a cancel token is not an engine");
  CHECK(pt_engine_free(forged) == PT_ERR_BAD_HANDLE, "free forged");

  /* Cancellation mid-render: the first progress report cancels. */
  const uint32_t BW = 1200, BH = 800;
  uint8_t *big = make_rgb(BW, BH);
  uint8_t *big_out = calloc((size_t)BW * BH * 3, 1);
  PtImage bsrc = view(big, BW, BH, 3, PT_DEPTH_U8, 1), bdst = view(big_out, BW, BH, 3, PT_DEPTH_U8, 1);
  struct cancel_ctx ctx = {token, 0};
  s = pt_render(engine, &bsrc, "{\"global\": {\"contrast\": 0.2}, \"sky\": {\"temperature\": 0.2}}", 1.0f, NULL,
                &bdst, cancel_on_first_progress, &ctx, token);
  CHECK(s == PT_ERR_CANCELLED, "cancelled render: %d", s);
  CHECK(ctx.calls >= 1, "progress reached");
  CHECK(pt_cancel_free(token) == PT_OK, "cancel_free");
  CHECK(pt_cancel_free(token) == PT_ERR_BAD_HANDLE, "double cancel_free");

  /* The diffusion renderer (the tiny fixture package, when the test driver found
   * ONNX Runtime): tiles equal the full frame, and the model runs once per frame. */
  const char *pkg = getenv("PT_TEST_DIFFUSION_PACKAGE");
  if (pkg) {
    char cfg[1024];
    snprintf(cfg, sizeof cfg, "{\"renderer\": \"diffusion\", \"diffusion_package\": \"%s\", \"steps\": 3, \"seed\": 4}", pkg);
    PtEngine *diff = NULL;
    CHECK(pt_engine_new(cfg, &diff) == PT_OK, "diffusion engine");
    const char *state = "{\"global\": {\"brightness\": 0.2}}";
    uint8_t *full = calloc((size_t)W * H * 3, 1), *tiled = calloc((size_t)W * H * 3, 1);
    PtImage fullv = view(full, W, H, 3, PT_DEPTH_U8, 1);
    CHECK(pt_render(diff, &src, state, 1.0f, NULL, &fullv, NULL, NULL, NULL) == PT_OK, "diffusion full frame");
    for (uint32_t t = 0; t < 2; t++) {
      PtRect r = {0, t * H / 2, W, H / 2};
      PtImage tv = {tiled + (size_t)r.y * W * 3, r.width, r.height, (uintptr_t)W * 3, 3, PT_DEPTH_U8};
      CHECK(pt_render(diff, &src, state, 1.0f, &r, &tv, NULL, NULL, NULL) == PT_OK, "diffusion tile %u", t);
    }
    int worst = 0;
    for (size_t i = 0; i < (size_t)W * H * 3; i++) {
      int d = abs((int)full[i] - (int)tiled[i]);
      if (d > worst) worst = d;
    }
    CHECK(worst <= 1, "diffusion tiles differ by %d/255", worst);
    uint64_t hits = 0, misses = 0;
    CHECK(pt_engine_cache_stats(diff, &hits, &misses) == PT_OK && misses == 1 && hits == 2,
          "diffusion planned %llu, reused %llu", (unsigned long long)misses, (unsigned long long)hits);
    CHECK(pt_engine_free(diff) == PT_OK, "free diffusion engine");
    free(full);
    free(tiled);
    printf("diffusion renderer checked\n");
  }
  PtEngine *nomodel = NULL;
  CHECK(pt_engine_new("{\"renderer\": \"diffusion\", \"diffusion_package\": \"/nonexistent\"}", &nomodel) == PT_ERR_MODEL,
        "missing diffusion package");
  CHECK(strstr(pt_last_error(), "nonexistent") != NULL, "names the folder: %s", pt_last_error());
  CHECK(pt_engine_new("{\"renderer\": \"magic\"}", &nomodel) == PT_ERR_INVALID, "unknown renderer");

  CHECK(pt_engine_free(engine) == PT_OK, "engine_free");
  CHECK(pt_engine_free(engine) == PT_ERR_BAD_HANDLE, "double free");
  CHECK(pt_render(engine, &src, "{}", 1.0f, NULL, &dst, NULL, NULL, NULL) == PT_ERR_BAD_HANDLE, "freed engine");

  free(src_px); free(dst_px); free(fdst); free(json); free(big); free(big_out);
}

static int argc_ = 0;
static char **argv_ = NULL;

int wanted(const char *group) {
  if (argc_ < 2) return 1;
  for (int i = 1; i < argc_; i++)
    if (strcmp(argv_[i], group) == 0) return 1;
  return 0;
}

int main(int argc, char **argv) {
  argc_ = argc;
  argv_ = argv;
#ifdef __SANITIZE_ADDRESS__
  printf("built with AddressSanitizer\n");
#endif
  if (wanted("basic")) basic_checks();
  hostile_checks();
  if (failures) {
    fprintf(stderr, "%d check(s) failed\n", failures);
    return 1;
  }
  printf("all C ABI checks passed\n");
  return 0;
}
