#include "models/pe_core/window_register.hpp"

#include <cstring>

#include "models/sparsity_io/sparsity_io_logic.hpp"

namespace pcnn {

void WindowRegister::start_layer(const PeLayer& L, bool masks) {
  K_ = L.K;
  masks_ = masks;
  const std::size_t size = static_cast<std::size_t>(L.kpr) * L.K;
  for (int w = 0; w < kWindows; ++w) {
    windows_[w].assign(size, 0);
    act_masks_[w].assign(L.kpr, 0);
  }
  shift_reg_.assign(size, 0);
  gather_buf_.assign(size, 0);
  next_ = 0;
  prev_valid_ = false;
}

WindowLoad WindowRegister::load(const PeLayer& L, int q, int pos, PeCorePorts& ports) {
  const ConvGeometry& g = L.layer->geom;
  const int band = L.pass_band(q);
  const BandPlan& b = L.plan->bands[band];
  const int oy = b.out_row_begin + pos / L.OW;
  const int ox = pos % L.OW;
  const int c0 = L.pass_group(q) * L.kpr;
  const int cg = L.group_channels(L.pass_group(q));
  const int kh = g.kernel_h, kw = g.kernel_w;

  // Along a row the register shifts by the stride; only new columns load.
  int first_col = 0;
  if (prev_valid_ && prev_pass_ == q && prev_oy_ == oy && prev_ox_ + 1 == ox && g.dilation_w == 1 &&
      g.stride_w < kw) {
    first_col = kw - g.stride_w;
    // Every row's columns move left by the stride. Moving the whole register
    // ([c][K], rows of kw) by the stride at once does that, and what it moves
    // into the columns from first_col on (the next row's or channel's first
    // columns) is loaded or zeroed below.
    std::memmove(shift_reg_.data(), shift_reg_.data() + g.stride_w,
                 static_cast<std::size_t>(cg) * K_ - g.stride_w);
    shift_bytes_ += static_cast<std::uint64_t>(cg) * kh * first_col;
  }
  const std::uint64_t base = L.plan->input_buffer_address(band);
  segments_.clear();
  struct Slot {
    int r, j;
  };
  Slot slots[kMaxKernelPositions];
  int nslots = 0;
  for (int r = 0; r < kh; ++r) {
    const int iy = oy * g.stride_h - g.pad_top + r * g.dilation_h;
    for (int j = first_col; j < kw; ++j) {
      const int ix = ox * g.stride_w - g.pad_left + j * g.dilation_w;
      const bool inside = iy >= 0 && iy < g.in_h && ix >= 0 && ix < g.in_w;
      if (!inside) {
        for (int c = 0; c < cg; ++c) shift_reg_[static_cast<std::size_t>(c) * K_ + r * kw + j] = 0;
        continue;
      }
      const std::uint64_t addr =
          base + (static_cast<std::uint64_t>(iy - b.in_row_begin) * g.in_w + ix) * L.C + c0;
      MemSegment& segment = segments_.emplace_back();  // built in place
      segment.address = addr;
      segment.length = static_cast<std::uint32_t>(cg);
      slots[nslots++] = {r, j};
    }
  }
  write_bytes_ += static_cast<std::uint64_t>(cg) * kh * (kw - first_col);
  WindowLoad out;
  if (nslots > 0) {
    const std::size_t len = static_cast<std::size_t>(nslots) * cg;
    out.fetch_cycles =
        std::max<std::uint64_t>(1, ports.gather_data_sram(segments_, gather_buf_.data(), len));
    out.read = true;
    out.address = segments_.front().address;
    for (int s = 0; s < nslots; ++s)
      for (int c = 0; c < cg; ++c)
        shift_reg_[static_cast<std::size_t>(c) * K_ + slots[s].r * kw + slots[s].j] =
            static_cast<std::int8_t>(gather_buf_[static_cast<std::size_t>(s) * cg + c]);
  }
  // Hand the window on with its activation masks.
  const int w = next_;
  next_ = (next_ + 1) % kWindows;
  std::memcpy(windows_[w].data(), shift_reg_.data(), static_cast<std::size_t>(cg) * K_);
  for (int c = 0; c < cg && masks_; ++c) {
    std::uint16_t mask = 0;
    const std::int8_t* v = &shift_reg_[static_cast<std::size_t>(c) * K_];
    for (int p = 0; p < K_; ++p) mask |= static_cast<std::uint16_t>((v[p] != 0) << p);
    act_masks_[w][c] = mask;
  }
  out.window = w;
  prev_valid_ = true;
  prev_pass_ = q;
  prev_oy_ = oy;
  prev_ox_ = ox;
  return out;
}

}  // namespace pcnn
