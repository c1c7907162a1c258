#include "models/pe_core/kernel_register.hpp"

namespace pcnn {

KernelRegister::KernelRegister(int pe_count, int words)
    : pe_count_(pe_count), words_per_pe_(words) {
  for (std::vector<std::int8_t>& w : words_)
    w.assign(static_cast<std::size_t>(pe_count) * words, 0);
}

void KernelRegister::start_layer(const PeLayer& L) {
  kpr_ = L.kpr;
  for (std::vector<std::uint16_t>& m : masks_)
    m.assign(static_cast<std::size_t>(pe_count_) * kpr_, 0);
  index_burst_.assign(L.plan->pattern_group_bytes, 0);
}

RefillTiming KernelRegister::refill(const PeLayer& L, int q, PeCorePorts& ports) {
  const TilePlan& plan = *L.plan;
  const int g = L.pass_group(q);
  const std::int64_t seq = L.chunk_seq(q);
  const int first = plan.chunk_first_group(g / plan.groups_per_chunk);
  const int cg = L.group_channels(g);
  const int pes = L.active_pes(L.pass_tile(q));
  const int slot = static_cast<int>(seq % plan.weight_buffers);

  RefillTiming t;
  // Registers: one row per PE, one burst (the host laid the chunk out so).
  t.weight_address = static_cast<std::uint64_t>(slot) * plan.weight_buffer_bytes +
                     static_cast<std::uint64_t>(g - first) * plan.weight_group_bytes;
  t.weight_cycles = ports.read_weight_sram(t.weight_address,
                                           reinterpret_cast<std::uint8_t*>(words_[q & 1].data()),
                                           plan.weight_group_bytes);
  write_bytes_ += plan.weight_group_bytes;

  // SPM indices: one burst, packed index_bits per kernel, then decoded.
  if (L.index_bits > 0) {
    t.pattern_address = static_cast<std::uint64_t>(slot) * plan.pattern_buffer_bytes +
                        static_cast<std::uint64_t>(g - first) * plan.pattern_group_bytes;
    t.pattern_cycles =
        ports.read_pattern_sram(t.pattern_address, index_burst_.data(), index_burst_.size());
  }
  for (int pe = 0; pe < pes; ++pe)
    for (int c = 0; c < cg; ++c) {
      std::uint32_t index = 0;
      if (L.index_bits > 0)
        index = unpack_bits(index_burst_.data(), index_burst_.size(),
                            static_cast<std::int64_t>(pe) * kpr_ + c, L.index_bits);
      masks_[q & 1][static_cast<std::size_t>(pe) * kpr_ + c] = spm_decoder.decode(*L.pac, index);
    }
  return t;
}

void KernelRegister::reset_counters() {
  write_bytes_ = reads_ = 0;
  spm_decoder.reset_counters();
}

}  // namespace pcnn
