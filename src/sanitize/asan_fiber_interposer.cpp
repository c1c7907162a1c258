// Linked into the simulating programs of an AddressSanitizer build with GCC
// (docs/sanitizers.md); not part of the library.
//
// SystemC 2.3.4's QuickThreads coroutines announce every yield to AddressSanitizer
// through the weak __sanitizer_start_switch_fiber, but pass the destination stack
// as (nullptr, 0) when the destination is the main coroutine, whose stack SystemC
// never recorded (SystemC 3.0 records it). AddressSanitizer then believes the
// main stack is empty, skips unpoisoning the frames an exception unwinds
// ("ASan is ignoring requested __asan_handle_no_return") and later reports
// stack-buffer-overflow on the reused main stack. This definition takes
// precedence over the runtime's (GCC links the runtime as a shared library),
// substitutes the thread's real stack for (nullptr, 0) and forwards the call.
#include <dlfcn.h>

#include <cstddef>

#include "pcnn/sanitize/thread_stack.hpp"

namespace {

using StartSwitch = void (*)(void**, const void*, std::size_t);

StartSwitch runtime_start_switch() {
  static const auto fn =
      reinterpret_cast<StartSwitch>(dlsym(RTLD_NEXT, "__sanitizer_start_switch_fiber"));
  return fn;
}

}  // namespace

extern "C" void __sanitizer_start_switch_fiber(void** fake_stack_save, const void* bottom,
                                               std::size_t size) {
  if (bottom == nullptr && size == 0) {
    static const pcnn::StackBounds main_stack = pcnn::thread_stack_bounds();
    bottom = main_stack.bottom;
    size = main_stack.size;
  }
  if (const StartSwitch fn = runtime_start_switch()) fn(fake_stack_save, bottom, size);
}
