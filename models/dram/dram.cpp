#include "models/dram/dram.hpp"
#include "models/common/payload_check.hpp"
#include "models/dram/read_ahead_extension.hpp"
#include "models/dram/shared_data_extension.hpp"
#include "models/trace/vcd_writer.hpp"

#include <algorithm>
#include <cstring>
#include <new>
#include <string>

namespace pcnn {

Dram::Dram(const sc_core::sc_module_name& name, const DramConfig& cfg, std::uint64_t size_bytes)
    : sc_core::sc_module(name),
      host_target_socket("host_target_socket"),
      post_process_target_socket("post_process_target_socket"),
      cfg_(cfg),
      mem_(static_cast<std::uint8_t*>(std::calloc(std::max<std::uint64_t>(1, size_bytes), 1))),
      size_(size_bytes),
      page_source_(static_cast<std::size_t>((size_bytes + kPageBytes - 1) / kPageBytes), nullptr),
      channel_free_(sc_core::SC_ZERO_TIME),
      latency_(cfg.latency_ns, sc_core::SC_NS) {
  host_target_socket.register_b_transport(this, &Dram::b_transport);
  host_target_socket.register_transport_dbg(this, &Dram::transport_dbg);
  post_process_target_socket.register_b_transport(this, &Dram::b_transport);
  post_process_target_socket.register_transport_dbg(this, &Dram::transport_dbg);
  if (!mem_) throw std::bad_alloc();
}

bool Dram::check(tlm::tlm_generic_payload& trans) const {
  if (!check_payload_form(trans)) return false;
  return check_payload_range(trans, size_);
}

void Dram::b_transport(tlm::tlm_generic_payload& trans, sc_core::sc_time& delay) {
  if (!check(trans)) return;
  const std::uint64_t length = trans.get_data_length();
  if (trans.is_write()) {
    write(trans.get_address(), trans.get_data_ptr(), length);
    stats_.bytes_written += length;
  } else {
    // The announced bytes are requested first: they arrive while this read's
    // own bytes are copied.
    if (const ReadAheadExtension* next = trans.get_extension<ReadAheadExtension>())
      prefetch(next->address, next->length);
    read(trans.get_address(), trans.get_data_ptr(), length);
    stats_.bytes_read += length;
  }
  ++stats_.accesses;
  // The request arrives at now + delay; it streams once the channel is free,
  // and its last byte lands one latency after it has streamed.
  const sc_core::sc_time arrival = sc_core::sc_time_stamp() + delay;
  const sc_core::sc_time start = std::max(arrival, channel_free_);
  channel_free_ = start + transfer_time(length);
  delay = channel_free_ + latency_ - sc_core::sc_time_stamp();
  trans.set_response_status(tlm::TLM_OK_RESPONSE);
}

const sc_core::sc_time& Dram::transfer_time(std::uint64_t length) {
  // A DMA engine repeats a few lengths (a PE's image span, a band): the time
  // of each is converted once, to the same value.
  TransferTime& slot = transfer_times_[length % transfer_times_.size()];
  if (slot.length != length) {
    slot.length = length;
    slot.time = sc_core::sc_time(static_cast<double>(length) / cfg_.bandwidth_gbps, sc_core::SC_NS);
  }
  return slot.time;
}

unsigned int Dram::transport_dbg(tlm::tlm_generic_payload& trans) {
  if (!check(trans)) return 0;
  const unsigned int length = trans.get_data_length();
  const SharedDataExtension* shared = trans.get_extension<SharedDataExtension>();
  if (trans.is_write() && shared)
    map(trans.get_address(), trans.get_data_ptr(), length, shared->owner);
  else if (trans.is_write())
    write(trans.get_address(), trans.get_data_ptr(), length);
  else
    read(trans.get_address(), trans.get_data_ptr(), length);
  trans.set_response_status(tlm::TLM_OK_RESPONSE);
  return length;
}

void Dram::read(std::uint64_t address, std::uint8_t* data, std::uint64_t length) const {
  if (mapped_pages_ == 0) {
    std::memcpy(data, mem_.get() + address, length);
    return;
  }
  while (length > 0) {
    const std::uint64_t page = address / kPageBytes;
    const std::uint64_t offset = address % kPageBytes;
    const std::uint64_t piece = std::min(length, kPageBytes - offset);
    const std::uint8_t* source = page_source_[page];
    std::memcpy(data, source ? source + offset : mem_.get() + address, piece);
    address += piece;
    data += piece;
    length -= piece;
  }
}

void Dram::prefetch(std::uint64_t address, std::uint64_t length) const {
  if (address >= size_) return;
  const std::uint64_t end = std::min(size_, address + std::min(length, size_));
  constexpr std::uint64_t kLineBytes = 64;
  for (std::uint64_t a = address / kLineBytes * kLineBytes; a < end; a += kLineBytes) {
    const std::uint8_t* source = page_source_[a / kPageBytes];
    __builtin_prefetch(source ? source + a % kPageBytes : mem_.get() + a);
  }
  // Prefetches have no effect the compiler can see: without this barrier it
  // drops the call or moves it behind the copy it is meant to overlap.
  asm volatile("" ::: "memory");
}

void Dram::write(std::uint64_t address, const std::uint8_t* data, std::uint64_t length) {
  if (length == 0) return;
  if (mapped_pages_ > 0) {
    // Mapped pages the write touches become stored pages; a page it covers
    // whole needs no copy of the old bytes.
    const std::uint64_t end = address + length;
    for (std::uint64_t page = address / kPageBytes; page * kPageBytes < end; ++page) {
      const std::uint8_t*& source = page_source_[page];
      if (!source) continue;
      const std::uint64_t begin = page * kPageBytes;
      if (address > begin || end < begin + kPageBytes)
        std::memcpy(mem_.get() + begin, source, kPageBytes);
      source = nullptr;
      --mapped_pages_;
    }
  }
  std::memcpy(mem_.get() + address, data, length);
}

void Dram::map(std::uint64_t address, const std::uint8_t* data, std::uint64_t length,
               const std::shared_ptr<const void>& owner) {
  // Whole pages inside the range refer to the data; the partial pages at its
  // ends are written as usual.
  const std::uint64_t end = address + length;
  const std::uint64_t first = (address + kPageBytes - 1) / kPageBytes;
  const std::uint64_t last = end / kPageBytes;  // one past the last whole page
  if (first >= last) {
    write(address, data, length);
    return;
  }
  write(address, data, first * kPageBytes - address);
  write(last * kPageBytes, data + (last * kPageBytes - address), end - last * kPageBytes);
  for (std::uint64_t page = first; page < last; ++page) {
    const std::uint8_t*& source = page_source_[page];
    if (!source) ++mapped_pages_;
    source = data + (page * kPageBytes - address);
  }
  if (owners_.empty() || owners_.back() != owner) owners_.push_back(owner);
}

}  // namespace pcnn

void pcnn::Dram::attach_tracer(VcdWriter* vcd) {
  if (!vcd) return;
  const std::string d = "top.dram.";
  const std::string group = "DRAM channel";
  const int busy = vcd->add(d + "busy", 1, group);
  const int accesses = vcd->add(d + "accesses", 32, group, TraceFormat::decimal);
  const int read = vcd->add(d + "bytes_read", 32, group, TraceFormat::decimal);
  const int written = vcd->add(d + "bytes_written", 32, group, TraceFormat::decimal);
  vcd->add_probe([this, vcd, busy, accesses, read, written] {
    const auto low32 = [](std::uint64_t v) { return v & 0xffffffffu; };
    vcd->set(busy, channel_free_ > sc_core::sc_time_stamp() ? 1 : 0);
    vcd->set(accesses, low32(stats_.accesses));
    vcd->set(read, low32(stats_.bytes_read));
    vcd->set(written, low32(stats_.bytes_written));
  });
}
