#include "pcnn/sanitize/thread_stack.hpp"

#include <pthread.h>

// AddressSanitizer's fiber-switch interface (sanitizer/common_interface_defs.h),
// declared weak so that a build without the sanitizer runtime links and skips it.
extern "C" {
void __sanitizer_start_switch_fiber(void** fake_stack_save, const void* bottom, std::size_t size)
    __attribute__((weak));
void __sanitizer_finish_switch_fiber(void* fake_stack_save, const void** bottom_old,
                                     std::size_t* size_old) __attribute__((weak));
}

namespace pcnn {

StackBounds thread_stack_bounds() {
  StackBounds b;
  pthread_attr_t attr;
  if (pthread_getattr_np(pthread_self(), &attr) != 0) return b;
  void* addr = nullptr;
  std::size_t size = 0;
  if (pthread_attr_getstack(&attr, &addr, &size) == 0) {
    b.bottom = addr;
    b.size = size;
  }
  pthread_attr_destroy(&attr);
  return b;
}

void announce_thread_stack_to_sanitizer() {
  if (!__sanitizer_start_switch_fiber || !__sanitizer_finish_switch_fiber) return;
  const StackBounds b = thread_stack_bounds();
  if (b.size == 0) return;
  // A null fake-stack slot: the stack being left belongs to a finished process.
  __sanitizer_start_switch_fiber(nullptr, b.bottom, b.size);
  __sanitizer_finish_switch_fiber(nullptr, nullptr, nullptr);
}

}  // namespace pcnn
