#pragma once
// Marks an untimed write (transport_dbg) whose data stays valid and unchanged
// for as long as `owner` lives: the image files the host places in DRAM. A
// memory may then refer to the bytes instead of copying them, copying a page
// only when the run writes into it (copy on write). Reads return the same bytes
// either way; the extension saves the copy and the fresh pages it would touch.
#include <memory>

#include <tlm>

namespace pcnn {

struct SharedDataExtension : tlm::tlm_extension<SharedDataExtension> {
  std::shared_ptr<const void> owner;  // keeps the data alive

  tlm::tlm_extension_base* clone() const override { return new SharedDataExtension(*this); }
  void copy_from(const tlm::tlm_extension_base& other) override {
    owner = static_cast<const SharedDataExtension&>(other).owner;
  }
};

}  // namespace pcnn
