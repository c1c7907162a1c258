#pragma once
// Off-chip DRAM behind a TLM target: one channel with a sustained bandwidth and
// a first-byte latency. Accesses queue on the channel (each starts when the
// previous one has streamed its bytes), so back-to-back requests overlap their
// latency but not their transfer time. Loosely timed: the target adds to the
// delay, it never waits. A second, optional target socket serves the
// post-processing unit over the same channel (its accesses queue with the
// host's). An untimed write carrying a SharedDataExtension maps the writer's
// bytes into the covered 4 KiB pages instead of copying them; a page is copied
// into the storage when a later write touches it. A read may announce a
// coming one (ReadAheadExtension): its bytes are prefetched into the cache.
#include <array>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <vector>

#include <tlm_utils/simple_target_socket.h>
#include <systemc>
#include <tlm>

#include "pcnn/sim/arch_config.hpp"
#include "pcnn/sim/stats_source.hpp"

namespace pcnn {

class VcdWriter;

struct DramStats {
  std::uint64_t bytes_read = 0;
  std::uint64_t bytes_written = 0;
  std::uint64_t accesses = 0;  // energy: the energy model (pcnn/energy), from the bytes
};

class Dram : public sc_core::sc_module, public StatsSource {
 public:
  tlm_utils::simple_target_socket<Dram> host_target_socket;
  tlm_utils::simple_target_socket_optional<Dram> post_process_target_socket;

  Dram(const sc_core::sc_module_name& name, const DramConfig& cfg, std::uint64_t size_bytes);

  const DramStats& stats() const { return stats_; }
  void reset_stats() { stats_ = DramStats{}; }
  nlohmann::json stats_json() const override {
    return {{"bytes_read", stats_.bytes_read},
            {"bytes_written", stats_.bytes_written},
            {"accesses", stats_.accesses}};
  }
  // Traces the channel at every traced cycle: busy (an access is streaming),
  // accesses and bytes so far.
  void attach_tracer(VcdWriter* vcd);

 private:
  void b_transport(tlm::tlm_generic_payload& trans, sc_core::sc_time& delay);
  unsigned int transport_dbg(tlm::tlm_generic_payload& trans);
  bool check(tlm::tlm_generic_payload& trans) const;
  // Byte moves between the payload and the pages (mapped or stored).
  void read(std::uint64_t address, std::uint8_t* data, std::uint64_t length) const;
  void write(std::uint64_t address, const std::uint8_t* data, std::uint64_t length);
  // Cache hint for the bytes of a coming read (ReadAheadExtension).
  void prefetch(std::uint64_t address, std::uint64_t length) const;
  void map(std::uint64_t address, const std::uint8_t* data, std::uint64_t length,
           const std::shared_ptr<const void>& owner);

  struct FreeMemory {
    void operator()(std::uint8_t* p) const { std::free(p); }
  };
  DramConfig cfg_;
  // calloc'ed: the zero pages come from the system when first touched, so a
  // DRAM sized for a whole network costs only the pages a run stores into
  // (the images' pages are mapped, below).
  std::unique_ptr<std::uint8_t[], FreeMemory> mem_;
  std::uint64_t size_ = 0;
  static constexpr std::uint64_t kPageBytes = 4096;
  // Per page: the shared bytes it reads from, or nullptr when it reads from
  // mem_. Mapped pages are whole pages of the DRAM.
  std::vector<const std::uint8_t*> page_source_;
  std::uint64_t mapped_pages_ = 0;
  std::vector<std::shared_ptr<const void>> owners_;  // of the mapped bytes
  sc_core::sc_time channel_free_;   // when the channel has streamed the last access
  const sc_core::sc_time latency_;  // first-byte latency of an access
  // Streaming time of one access of `length` bytes at the channel's bandwidth.
  const sc_core::sc_time& transfer_time(std::uint64_t length);
  struct TransferTime {
    std::uint64_t length = ~std::uint64_t{0};
    sc_core::sc_time time;
  };
  std::array<TransferTime, 64> transfer_times_;  // by length modulo 64
  DramStats stats_;
};

}  // namespace pcnn
