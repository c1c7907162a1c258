#pragma once
// What the PE-group core asks of its surroundings, as plain C++: the memory
// accesses of its three SRAM ports (each returns its duration in clock cycles)
// and the buffer handshake with the host controller. The SystemC shell
// (PeGroup) implements them with TLM transactions and the host's buffer rings;
// the unit tests implement them with a fake memory.
#include <cstddef>
#include <cstdint>
#include <vector>

namespace pcnn {

// One contiguous address range of a gather read or a scatter write.
struct MemSegment {
  std::uint64_t address;
  std::uint32_t length;
};

class PeCorePorts {
 public:
  virtual ~PeCorePorts() = default;

  // Kernel-register refill: one Weight SRAM burst.
  virtual std::uint64_t read_weight_sram(std::uint64_t address, std::uint8_t* data,
                                         std::size_t length) = 0;
  // SPM indices of a refill: one Pattern SRAM burst.
  virtual std::uint64_t read_pattern_sram(std::uint64_t address, std::uint8_t* data,
                                          std::size_t length) = 0;
  // Activation window: one gather read; the segments arrive back to back.
  virtual std::uint64_t gather_data_sram(const std::vector<MemSegment>& segments,
                                         std::uint8_t* data, std::size_t length) = 0;
  // Write-back: one scatter write of the requantised outputs.
  virtual std::uint64_t scatter_data_sram(const std::vector<MemSegment>& segments,
                                          const std::uint8_t* data, std::size_t length) = 0;

  // Host handshake (the buffer rings: weight chunks, input bands, output bands).
  virtual bool weight_chunk_ready(std::int64_t seq) = 0;
  virtual void release_weight_chunk() = 0;
  virtual bool input_band_ready(int band) = 0;
  virtual void release_input_band() = 0;
  virtual bool output_band_free(int band) = 0;
  virtual void fill_output_band() = 0;
};

}  // namespace pcnn
