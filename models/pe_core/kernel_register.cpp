#include "models/pe_core/kernel_register.hpp"

namespace pcnn {

KernelRegister::KernelRegister(int pe_count, int words)
    : pe_count_(pe_count), words_per_pe_(words) {
  // Padded so that the group layout may read a row's last kernel 16 bytes at once.
  for (std::vector<std::int8_t>& w : words_)
    w.assign(static_cast<std::size_t>(pe_count) * words + KernelPlacement::kReadAhead, 0);
}

void KernelRegister::start_layer(const PeLayer& L) {
  kpr_ = L.kpr;
  for (std::vector<std::uint16_t>& m : masks_)
    m.assign(static_cast<std::size_t>(pe_count_) * kpr_, 0);
  for (std::vector<std::uint32_t>& i : indices_)
    i.assign(static_cast<std::size_t>(pe_count_) * kpr_, 0);
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
  // Per PE its cg indices in one pass, then decoded (a layer without indices
  // keeps index 0 everywhere, which decodes to every position).
  for (int pe = 0; pe < pes; ++pe) {
    const std::size_t at = static_cast<std::size_t>(pe) * kpr_;
    if (L.index_bits > 0)
      unpack_bits_run(index_burst_.data(), index_burst_.size(), static_cast<std::int64_t>(at), cg,
                      L.index_bits, &indices_[q & 1][at]);
    spm_decoder.decode_run(*L.pac, &indices_[q & 1][at], cg, &masks_[q & 1][at]);
  }
  return t;
}

void KernelRegister::reset_counters() {
  write_bytes_ = reads_ = 0;
  spm_decoder.reset_counters();
}

}  // namespace pcnn
