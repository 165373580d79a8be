// pertouch.h compiled as C++ (it promises to be usable from C++), included twice,
// with every warning an error; built, linked and run by capi/tests/c_program.rs
// for each C++ standard the header supports.
#include "pertouch.h"
#include "pertouch.h"

#include <type_traits>

static_assert(std::is_standard_layout<PtImage>::value, "PtImage is a plain C struct");
static_assert(std::is_trivially_copyable<PtRect>::value, "PtRect is a plain C struct");

int main() {
  PtImage image = {nullptr, 1, 1, 3, 3, PT_DEPTH_U8};
  (void)image;
  PtEngine *engine = nullptr;
  // The functions link with C names from C++.
  if (pt_abi_version() != PT_ABI_VERSION) return 1;
  if (pt_engine_free(engine) != PT_ERR_NULL) return 1;
  return pt_last_error()[0] != '\0' ? 0 : 1;
}
