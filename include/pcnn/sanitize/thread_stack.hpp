// Keeps AddressSanitizer's idea of the current stack right around SystemC's
// coroutine switches (docs/sanitizers.md). Without AddressSanitizer these are
// no-ops.
#pragma once
#include <cstddef>

namespace pcnn {

struct StackBounds {
  const void* bottom = nullptr;  // lowest address
  std::size_t size = 0;          // bytes; 0 when unknown
};

// The calling thread's own stack (not a coroutine stack), from pthread_getattr_np.
StackBounds thread_stack_bounds();

// Tells AddressSanitizer that the code now runs on the thread's own stack. Call it
// after sc_start() returns: SystemC 2.3.4 switches back to the main stack without
// announcing it when the last running process terminates, and AddressSanitizer
// would go on believing it runs on that process's (freed) coroutine stack.
void announce_thread_stack_to_sanitizer();

}  // namespace pcnn
