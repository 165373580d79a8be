/* What a hostile or careless host does to the C ABI (issue 18), each a check
 * that failed (hung, crashed or misbehaved) before the fix it guards:
 * - reentrant: a progress callback that renders the frame being planned, on
 *   its own thread or by waiting for another thread that does (hung forever);
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

void hostile_checks(void) {
  if (wanted("reentrant")) reentrant();
}
