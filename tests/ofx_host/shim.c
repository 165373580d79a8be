/* The variadic functions of our OpenFX test host (paramGetValue and friends,
 * message, setPersistentMessage). Stable Rust cannot define C-variadic
 * functions, so these unpack the arguments by the parameter's type, which the
 * Rust host reports, and call the Rust host with plain arguments. */
#include <stdarg.h>
#include <stdio.h>
#include <stddef.h>

typedef int OfxStatus;
#define STAT_BAD_HANDLE 9
#define STAT_FAILED 1

/* kind: 0 = doubles, 1 = ints, 2 = string, 3 = no value; dims: 1..4. Returns 0,
 * or -1 for a handle the host does not know. */
typedef int (*kind_fn)(void *param, int *kind, int *dims);
typedef OfxStatus (*get_fn)(void *param, int has_time, double time, void **outs, int dims);
typedef OfxStatus (*set_fn)(void *param, int has_time, double time, const double *d,
                            const int *i, const char *s, int dims);
typedef OfxStatus (*message_fn)(void *handle, const char *type, const char *id,
                                const char *text, int persistent);

static kind_fn host_kind;
static get_fn host_get;
static set_fn host_set;
static message_fn host_message;

void ofx_shim_install(kind_fn k, get_fn g, set_fn s, message_fn m) {
  host_kind = k;
  host_get = g;
  host_set = s;
  host_message = m;
}

static OfxStatus get_va(void *p, int has_time, double t, va_list ap) {
  int kind = 0, dims = 0;
  if (!host_kind || host_kind(p, &kind, &dims) != 0) return STAT_BAD_HANDLE;
  void *outs[4] = {NULL, NULL, NULL, NULL};
  for (int k = 0; k < dims && k < 4; k++) outs[k] = va_arg(ap, void *);
  return host_get(p, has_time, t, outs, dims);
}

static OfxStatus set_va(void *p, int has_time, double t, va_list ap) {
  int kind = 0, dims = 0;
  if (!host_kind || host_kind(p, &kind, &dims) != 0) return STAT_BAD_HANDLE;
  double d[4] = {0, 0, 0, 0};
  int i[4] = {0, 0, 0, 0};
  const char *s = NULL;
  for (int k = 0; k < dims && k < 4; k++) {
    if (kind == 0) d[k] = va_arg(ap, double);
    else if (kind == 1) i[k] = va_arg(ap, int);
    else if (kind == 2) s = va_arg(ap, const char *);
  }
  return host_set(p, has_time, t, d, i, s, dims);
}

OfxStatus ofx_shim_param_get_value(void *p, ...) {
  va_list ap;
  va_start(ap, p);
  OfxStatus r = get_va(p, 0, 0.0, ap);
  va_end(ap);
  return r;
}

OfxStatus ofx_shim_param_get_value_at_time(void *p, double t, ...) {
  va_list ap;
  va_start(ap, t);
  OfxStatus r = get_va(p, 1, t, ap);
  va_end(ap);
  return r;
}

OfxStatus ofx_shim_param_set_value(void *p, ...) {
  va_list ap;
  va_start(ap, p);
  OfxStatus r = set_va(p, 0, 0.0, ap);
  va_end(ap);
  return r;
}

OfxStatus ofx_shim_param_set_value_at_time(void *p, double t, ...) {
  va_list ap;
  va_start(ap, t);
  OfxStatus r = set_va(p, 1, t, ap);
  va_end(ap);
  return r;
}

/* Derivatives and integrals: this host has no animation curves, so a derivative
 * is 0 and an integral is value * (t2 - t1); both reported as unsupported. */
OfxStatus ofx_shim_param_unsupported(void *p, double t, ...) {
  (void)p;
  (void)t;
  return 5; /* kOfxStatErrUnsupported */
}

OfxStatus ofx_shim_param_integral(void *p, double t1, double t2, ...) {
  (void)p;
  (void)t1;
  (void)t2;
  return 5;
}

static OfxStatus message_va(void *h, const char *type, const char *id, const char *fmt,
                            va_list ap, int persistent) {
  char text[4096];
  if (!fmt) return STAT_FAILED;
  vsnprintf(text, sizeof text, fmt, ap);
  return host_message ? host_message(h, type, id, text, persistent) : STAT_FAILED;
}

OfxStatus ofx_shim_message(void *h, const char *type, const char *id, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  OfxStatus r = message_va(h, type, id, fmt, ap, 0);
  va_end(ap);
  return r;
}

OfxStatus ofx_shim_persistent_message(void *h, const char *type, const char *id,
                                      const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  OfxStatus r = message_va(h, type, id, fmt, ap, 1);
  va_end(ap);
  return r;
}
