/* pertouch.h compiled as C, included twice (its guard must hold), with every
 * warning an error: built by capi/tests/c_program.rs for each C standard the
 * header supports. */
#include "pertouch.h"
#include "pertouch.h"

int main(void) {
  PtImage image = {0, 1, 1, 3, 3, PT_DEPTH_U8};
  PtRect rect = {0, 0, 1, 1};
  (void)image;
  (void)rect;
  return pt_abi_version() == PT_ABI_VERSION && pt_engine_free(0) == PT_ERR_NULL ? 0 : 1;
}
