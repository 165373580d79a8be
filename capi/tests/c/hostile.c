/* What a hostile or careless host does to the C ABI (issue 18), each a check
 * that failed (hung, crashed or misbehaved) before the fix it guards:
 * - reentrant: a progress callback that renders the frame being planned, on
 *   its own thread or by waiting for another thread that does (hung forever);
 * - strides: row_bytes of 2^62, INTPTR_MAX and the like (wrapped, wild reads);
 * - handles: a freed handle after new ones were made (found the new object);
 * - messages: a 10 MB argument in an error message (a 10 MB pt_last_error);
 * - overlap: dst in src's memory (a data race inside the library);
 * - pointers: misaligned out-pointers, impossible sizes;
 * - callbacks: a callback that frees the engine and token of its own call.
 * Group names are the words before the colons. */
#define _POSIX_C_SOURCE 200809L

#include "test_support.h"

#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* ---- a watchdog, so that a deadlock fails the program instead of hanging it */

static const char *watched = "";

static void hung(int sig) {
  static const char head[] = "FAIL: did not return within the watchdog's time (a deadlock): ";
  (void)sig;
  ssize_t ignored = write(2, head, sizeof head - 1);
  ignored = write(2, watched, strlen(watched));
  ignored = write(2, "\n", 1);
  (void)ignored;
  _exit(3);
}

static void watch(const char *what) {
  watched = what;
  signal(SIGALRM, hung);
  alarm(120);
}

static void unwatch(void) { alarm(0); }

/* ---- reentrant */

struct reentry {
  PtEngine *engine;
  const PtImage *src;
  const char *state;
  const PtImage *dst;     /* the inner render's output */
  int via_thread;         /* render on another thread and wait for it */
  int calls;              /* progress calls of the outer render */
  int inner_progress;     /* progress calls of the inner render */
  PtStatus inner;
};

static void count(void *user, const char *stage, float fraction) {
  (void)stage;
  (void)fraction;
  (*(int *)user)++;
}

static void *render_inner(void *arg) {
  struct reentry *r = arg;
  r->inner = pt_render(r->engine, r->src, r->state, 1.0f, NULL, r->dst, count, &r->inner_progress, NULL);
  return NULL;
}

/* The first progress report of the outer render renders the same frame and
 * state, here or on a thread this callback waits for (as a UI thread may). */
static void reenter(void *user, const char *stage, float fraction) {
  struct reentry *r = user;
  (void)stage;
  (void)fraction;
  if (r->calls++ > 0) return;
  if (r->via_thread) {
    pthread_t t;
    if (pthread_create(&t, NULL, render_inner, r) == 0) {
      pthread_join(t, NULL);
    } else {
      r->inner = PT_ERR_INTERNAL;
    }
  } else {
    render_inner(r);
  }
}

static void reentrant(void) {
  const uint32_t W = 96, H = 64;
  uint8_t *px = make_rgb(W, H), *outer = calloc((size_t)W * H * 3, 1), *inner = calloc((size_t)W * H * 3, 1);
  PtImage src = view(px, W, H, 3, PT_DEPTH_U8, 1), dst = view(outer, W, H, 3, PT_DEPTH_U8, 1),
          dst2 = view(inner, W, H, 3, PT_DEPTH_U8, 1);
  PtEngine *engine = NULL;
  CHECK(pt_engine_new(NULL, &engine) == PT_OK, "engine");
  for (int via_thread = 0; via_thread < 2; via_thread++)
    for (int regions = 0; regions < 2; regions++) {
      /* A state not planned yet, so the outer call plans the frame and reports
       * progress while it does: global-only, and with a segmented region. */
      char state[128];
      if (regions)
        snprintf(state, sizeof state, "{\"sky\": {\"temperature\": 0.2%d}}", via_thread);
      else
        snprintf(state, sizeof state, "{\"global\": {\"brightness\": 0.1%d}}", via_thread);
      struct reentry r = {engine, &src, state, &dst2, via_thread, 0, 0, PT_ERR_INTERNAL};
      memset(outer, 0, (size_t)W * H * 3);
      memset(inner, 0, (size_t)W * H * 3);
      watch(via_thread ? "a progress callback waiting for a thread that renders the same frame"
                       : "a progress callback rendering the same frame");
      PtStatus s = pt_render(engine, &src, state, 1.0f, NULL, &dst, reenter, &r, NULL);
      unwatch();
      CHECK(s == PT_OK, "outer render (%s, via thread %d): %d", state, via_thread, s);
      CHECK(r.calls > 0, "progress reported (%s)", state);
      CHECK(r.inner == PT_OK, "render from the callback (%s, via thread %d): %d", state, via_thread, r.inner);
      CHECK(r.inner_progress > 0, "the inner render reported progress too (%s)", state);
      CHECK(memcmp(outer, inner, (size_t)W * H * 3) == 0, "both renders made the same pixels (%s)", state);
    }
  CHECK(pt_engine_free(engine) == PT_OK, "free");
  free(px);
  free(outer);
  free(inner);
}

/* ---- strides */

static void strides(void) {
  const uint32_t W = 16, H = 4;
  uint8_t *px = make_rgb(W, H), *out = calloc((size_t)W * H * 3, 1);
  PtEngine *engine = NULL;
  CHECK(pt_engine_new(NULL, &engine) == PT_OK, "engine");
  const char *state = "{\"global\": {\"contrast\": 0.1}}";
  const size_t wild[] = {(size_t)1 << 62, (size_t)INTPTR_MAX, (size_t)INTPTR_MAX + 1, SIZE_MAX,
                         (size_t)1 << 40, (size_t)3 << 31};
  for (size_t i = 0; i < sizeof wild / sizeof wild[0]; i++)
    for (uint32_t h = 2; h <= H; h += 2) {
      PtImage good_src = view(px, W, h, 3, PT_DEPTH_U8, 1), good_dst = view(out, W, h, 3, PT_DEPTH_U8, 1);
      PtImage bad_src = good_src, bad_dst = good_dst;
      bad_src.row_bytes = wild[i];
      bad_dst.row_bytes = wild[i];
      CHECK(pt_render(engine, &bad_src, state, 1.0f, NULL, &good_dst, NULL, NULL, NULL) == PT_ERR_INVALID,
            "src row_bytes %zu, height %u", wild[i], h);
      CHECK(strstr(pt_last_error(), "row") != NULL, "says it is the rows: %s", pt_last_error());
      CHECK(pt_render(engine, &good_src, state, 1.0f, NULL, &bad_dst, NULL, NULL, NULL) == PT_ERR_INVALID,
            "dst row_bytes %zu, height %u", wild[i], h);
      CHECK(pt_render(engine, &bad_src, state, 0.5f, NULL, &good_dst, NULL, NULL, NULL) == PT_ERR_INVALID,
            "half-scale src row_bytes %zu, height %u", wild[i], h);
      char json[256];
      CHECK(pt_agent_apply(engine, &bad_src, "a bit brighter", NULL, json, sizeof json, NULL) == PT_ERR_INVALID,
            "agent src row_bytes %zu, height %u", wild[i], h);
    }
  /* A one-row view reads one row: any stride that holds it is fine. */
  PtImage one_row = view(px, W, 1, 3, PT_DEPTH_U8, 1), one_out = view(out, W, 1, 3, PT_DEPTH_U8, 1);
  one_row.row_bytes = (size_t)W * 3 * 2;
  CHECK(pt_render(engine, &one_row, state, 1.0f, NULL, &one_out, NULL, NULL, NULL) == PT_OK, "one row, wide stride");
  CHECK(pt_engine_free(engine) == PT_OK, "free");
  free(px);
  free(out);
}

/* ---- handles */

static void handles(void) {
  enum { N = 64 };
  PtCancel *freed[N];
  for (int i = 0; i < N; i++) {
    CHECK(pt_cancel_new(&freed[i]) == PT_OK, "cancel_new");
    CHECK(pt_cancel_free(freed[i]) == PT_OK, "cancel_free");
  }
  PtCancel *live = NULL;
  CHECK(pt_cancel_new(&live) == PT_OK, "cancel_new");
  for (int i = 0; i < N; i++) {
    CHECK(freed[i] != live, "a freed handle (%d) came back for a new token", i);
    CHECK(pt_cancel_request(freed[i]) == PT_ERR_BAD_HANDLE, "freed token %d still works", i);
  }
  CHECK(pt_cancel_free(live) == PT_OK, "free");

  const uint32_t W = 16, H = 8;
  uint8_t *px = make_rgb(W, H), *out = calloc((size_t)W * H * 3, 1);
  PtImage src = view(px, W, H, 3, PT_DEPTH_U8, 1), dst = view(out, W, H, 3, PT_DEPTH_U8, 1);
  PtEngine *old[3];
  for (int i = 0; i < 3; i++) {
    CHECK(pt_engine_new(NULL, &old[i]) == PT_OK, "engine_new");
    CHECK(pt_engine_free(old[i]) == PT_OK, "engine_free");
  }
  PtEngine *engine = NULL;
  CHECK(pt_engine_new(NULL, &engine) == PT_OK, "engine_new");
  for (int i = 0; i < 3; i++) {
    CHECK(old[i] != engine, "a freed engine handle (%d) came back", i);
    CHECK(pt_render(old[i], &src, "{}", 1.0f, NULL, &dst, NULL, NULL, NULL) == PT_ERR_BAD_HANDLE,
          "a freed engine (%d) rendered", i);
    uint64_t hits = 0;
    CHECK(pt_engine_cache_stats(old[i], &hits, NULL) == PT_ERR_BAD_HANDLE, "stats of a freed engine (%d)", i);
  }
  /* A wrong-kind handle is named as such. */
  PtCancel *token = NULL;
  CHECK(pt_cancel_new(&token) == PT_OK, "cancel_new");
  CHECK(pt_engine_free((PtEngine *)token) == PT_ERR_BAD_HANDLE, "a token freed as an engine");
  CHECK(strstr(pt_last_error(), "cancel token") != NULL, "says what it is: %s", pt_last_error());
  CHECK(pt_cancel_free(token) == PT_OK, "the token survived");
  CHECK(pt_engine_free(engine) == PT_OK, "free");
  free(px);
  free(out);
}

/* ---- messages */

/* `"{\"" + n bytes of "é" (2 bytes each) + tail`, so that a cut can fall inside
 * a character. */
static char *long_key_json(size_t n, const char *tail) {
  char *s = malloc(n + strlen(tail) + 8);
  strcpy(s, "{\"");
  size_t at = 2;
  for (size_t i = 0; i + 1 < n; i += 2) {
    s[at++] = (char)0xC3;
    s[at++] = (char)0xA9;
  }
  strcpy(s + at, tail);
  return s;
}

/* At most 8 KiB, and a whole UTF-8 text: no character cut in half. */
static int bounded_utf8(const char *m) {
  size_t n = strlen(m);
  if (n > 8192) return 0;
  for (size_t i = 0; i < n;) {
    unsigned char c = (unsigned char)m[i];
    size_t len = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
    if (len == 0 || i + len > n) return 0;
    for (size_t k = 1; k < len; k++)
      if (((unsigned char)m[i + k] >> 6) != 2) return 0;
    i += len;
  }
  return 1;
}

static void messages(void) {
  const size_t big = (size_t)10 << 20;
  char *config = long_key_json(big, "\": true}");
  PtEngine *engine = NULL;
  CHECK(pt_engine_new(config, &engine) == PT_ERR_INVALID, "an unknown 10 MB config key");
  CHECK(bounded_utf8(pt_last_error()), "message of %zu bytes", strlen(pt_last_error()));
  CHECK(strstr(pt_last_error(), "bytes cut") != NULL, "says it was cut: %.200s", pt_last_error());
  free(config);

  CHECK(pt_engine_new(NULL, &engine) == PT_OK, "engine");
  const uint32_t W = 16, H = 8;
  uint8_t *px = make_rgb(W, H), *out = calloc((size_t)W * H * 3, 1);
  PtImage src = view(px, W, H, 3, PT_DEPTH_U8, 1), dst = view(out, W, H, 3, PT_DEPTH_U8, 1);
  char *state = long_key_json(big, "\": {\"brightness\": 0.1}}");
  PtStatus s = pt_render(engine, &src, state, 1.0f, NULL, &dst, NULL, NULL, NULL);
  CHECK(s != PT_OK, "a 10 MB region name");
  CHECK(bounded_utf8(pt_last_error()), "message of %zu bytes", strlen(pt_last_error()));
  free(state);
  CHECK(pt_engine_free(engine) == PT_OK, "free");
  free(px);
  free(out);
}

/* ---- overlap */

static void overlap(void) {
  const uint32_t W = 32, H = 16;
  uint8_t *px = make_rgb(W, H);
  PtImage src = view(px, W, H, 3, PT_DEPTH_U8, 1);
  PtEngine *engine = NULL;
  CHECK(pt_engine_new(NULL, &engine) == PT_OK, "engine");
  const char *state = "{\"global\": {\"brightness\": 0.2}}";
  CHECK(pt_render(engine, &src, state, 1.0f, NULL, &src, NULL, NULL, NULL) == PT_ERR_INVALID, "dst is src");
  CHECK(strstr(pt_last_error(), "overlap") != NULL, "says why: %s", pt_last_error());
  /* The top half of the frame rendered into rows 4..11 of the same buffer. */
  PtRect top = {0, 0, W, H / 2};
  PtImage inside = view(px + (size_t)4 * W * 3, W, H / 2, 3, PT_DEPTH_U8, 1);
  CHECK(pt_render(engine, &src, state, 1.0f, &top, &inside, NULL, NULL, NULL) == PT_ERR_INVALID, "dst inside src");
  CHECK(pt_engine_free(engine) == PT_OK, "free");
  free(px);
}

/* ---- pointers */

static void pointers(void) {
  PtEngine *engine = NULL;
  CHECK(pt_engine_new(NULL, &engine) == PT_OK, "engine");
  uint64_t words[3] = {0, 0, 0};
  uint64_t *misaligned = (uint64_t *)(void *)((char *)words + 1);
  CHECK(pt_engine_cache_stats(engine, misaligned, NULL) == PT_ERR_INVALID, "misaligned hits");
  CHECK(strstr(pt_last_error(), "hits") != NULL, "names it: %s", pt_last_error());
  CHECK(words[0] == 0 && words[1] == 0, "nothing written through it");
  uint32_t ow = 7, oh = 7;
  CHECK(pt_output_size(0, 10, 1.0f, NULL, &ow, &oh) == PT_ERR_INVALID, "a frame 0 pixels wide");
  CHECK(pt_output_size(100000, 10, 1.0f, NULL, &ow, &oh) == PT_ERR_INVALID, "a frame 100000 pixels wide");
  PtRect outside = {90, 0, 20, 10};
  CHECK(pt_output_size(100, 10, 1.0f, &outside, &ow, &oh) == PT_ERR_INVALID, "a roi outside the frame");
  PtRect empty = {0, 0, 0, 10};
  CHECK(pt_output_size(100, 10, 1.0f, &empty, &ow, &oh) == PT_ERR_INVALID, "an empty roi");
  PtRect wraps = {UINT32_MAX, 0, 2, 2};
  CHECK(pt_output_size(100, 10, 1.0f, &wraps, &ow, &oh) == PT_ERR_INVALID, "a roi whose right edge wraps");
  CHECK(ow == 7 && oh == 7, "nothing written on failure");
  CHECK(pt_engine_free(engine) == PT_OK, "free");
}

/* ---- callbacks */

struct freeing {
  PtEngine *engine;
  PtCancel *token;
  int calls;
};

static void free_own_handles(void *user, const char *stage, float fraction) {
  struct freeing *f = user;
  (void)stage;
  (void)fraction;
  if (f->calls++ == 0) {
    pt_engine_free(f->engine);
    pt_cancel_free(f->token);
  }
}

static void callbacks(void) {
  const uint32_t W = 64, H = 48;
  uint8_t *px = make_rgb(W, H), *out = calloc((size_t)W * H * 3, 1);
  PtImage src = view(px, W, H, 3, PT_DEPTH_U8, 1), dst = view(out, W, H, 3, PT_DEPTH_U8, 1);
  struct freeing f = {NULL, NULL, 0};
  CHECK(pt_engine_new(NULL, &f.engine) == PT_OK, "engine");
  CHECK(pt_cancel_new(&f.token) == PT_OK, "token");
  watch("a render whose callback freed its engine");
  PtStatus s = pt_render(f.engine, &src, "{\"sky\": {\"colorfulness\": 0.3}}", 1.0f, NULL, &dst, free_own_handles, &f,
                         f.token);
  unwatch();
  CHECK(s == PT_OK, "the call keeps what it was given: %d", s);
  CHECK(f.calls > 0, "progress reported");
  CHECK(pt_render(f.engine, &src, "{}", 1.0f, NULL, &dst, NULL, NULL, NULL) == PT_ERR_BAD_HANDLE, "freed engine");
  CHECK(pt_cancel_request(f.token) == PT_ERR_BAD_HANDLE, "freed token");
  free(px);
  free(out);
}

void hostile_checks(void) {
  if (wanted("reentrant")) reentrant();
  if (wanted("strides")) strides();
  if (wanted("handles")) handles();
  if (wanted("messages")) messages();
  if (wanted("overlap")) overlap();
  if (wanted("pointers")) pointers();
  if (wanted("callbacks")) callbacks();
}
