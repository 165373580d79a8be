/* What the C test program's files share: the CHECK macro and test frames. */
#ifndef PT_TEST_SUPPORT_H
#define PT_TEST_SUPPORT_H

#include "pertouch.h"

#include <stdint.h>
#include <stdio.h>

/* Failed checks so far; the program exits non-zero if any. */
extern int failures;

#define CHECK(cond, ...)                                                        \
  do {                                                                          \
    if (!(cond)) {                                                              \
      fprintf(stderr, "FAIL %s:%d: ", __FILE__, __LINE__);                     \
      fprintf(stderr, __VA_ARGS__);                                             \
      fprintf(stderr, " (last error: %.300s)\n", pt_last_error());             \
      failures++;                                                               \
    }                                                                           \
  } while (0)

/* A photo-like w x h RGB frame (sky above, field below), malloc'ed. */
uint8_t *make_rgb(uint32_t w, uint32_t h);

/* A tightly packed view of `data`: `bytes` per sample. */
PtImage view(void *data, uint32_t w, uint32_t h, uint32_t ch, uint32_t depth, size_t bytes);

/* True when the group `group` is to run (all, unless the command line names some). */
int wanted(const char *group);

/* hostile.c: every group it has, each when wanted. */
void hostile_checks(void);

#endif
