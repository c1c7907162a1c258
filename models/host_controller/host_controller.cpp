#include "models/host_controller/host_controller.hpp"

#include <algorithm>
#include <cstring>

#include "models/dram/shared_data_extension.hpp"
#include "models/pattern_config/pattern_config.hpp"
#include "pcnn/core/error.hpp"

namespace pcnn {

namespace {
std::uint64_t align64(std::uint64_t v) { return (v + 63) / 64 * 64; }

// Sets an extension owned by the caller on a payload for one scope and takes
// it off again at the end (also when a target throws), so the payload never
// holds a pointer to it beyond its life.
template <typename Extension>
class ScopedExtension {
 public:
  ScopedExtension(tlm::tlm_generic_payload& t, Extension* e) : t_(t), e_(e) {
    if (e_) t_.set_extension(e_);
  }
  ~ScopedExtension() {
    if (e_) t_.clear_extension(e_);
  }
  ScopedExtension(const ScopedExtension&) = delete;
  ScopedExtension& operator=(const ScopedExtension&) = delete;

 private:
  tlm::tlm_generic_payload& t_;
  Extension* e_;
};
}  // namespace

void use_image_files(HostJob& job, std::shared_ptr<const ImageFiles> files) {
  job.files = std::move(files);
  job.weight_offset = job.layer->weight_offset;
  job.pattern_offset = job.layer->pattern_offset;
  job.pattern_config_offset = job.layer->pattern_config_offset;
  const DramLayout d = dram_layout(job);
  if (job.weight_offset + d.weight_bytes > job.files->weights.size() ||
      job.pattern_offset + d.pattern_bytes > job.files->patterns.size() ||
      job.pattern_config_offset + 8 + 2 * job.layer->patterns.size() >
          job.files->pattern_config.size())
    throw Error("layer '" + job.layer->name + "'", "its image regions lie beyond the image files");
}

void use_encoded_images(HostJob& job) {
  ModelImages one;
  one.layers.push_back(*job.layer);
  job.files = std::make_shared<const ImageFiles>(encode_image_files(one));
  job.weight_offset = one.layers[0].weight_offset;
  job.pattern_offset = one.layers[0].pattern_offset;
  job.pattern_config_offset = one.layers[0].pattern_config_offset;
}

DramLayout dram_layout(const HostJob& job) {
  DramLayout d;
  const SpmLayer& layer = *job.layer;
  const ConvGeometry& g = layer.geom;
  const std::int64_t kernels = g.kernel_count();
  const std::int64_t rows = (kernels + layer.kernels_per_row() - 1) / layer.kernels_per_row();
  d.weight_bytes = static_cast<std::uint64_t>(rows) * layer.row_bytes();
  const int bits = layer.pattern_pruned ? layer.index_bits() : 0;
  d.pattern_bytes = (static_cast<std::uint64_t>(kernels) * bits + 7) / 8;
  const std::uint64_t wfile = job.files ? job.files->weights.size() : d.weight_bytes;
  const std::uint64_t pfile = job.files ? job.files->patterns.size() : d.pattern_bytes;
  const std::uint64_t base = job.network_placement ? job.images_base : 0;
  const std::uint64_t patterns_base = base + align64(wfile);
  d.weights = base + job.weight_offset;
  d.patterns = patterns_base + job.pattern_offset;
  d.images_end = align64(patterns_base + pfile);
  if (job.network_placement) {
    d.input = job.input_address;
    d.output = job.output_address;
    d.end = d.images_end;
    return d;
  }
  d.input = d.images_end;
  d.output = align64(d.input + static_cast<std::uint64_t>(g.input_elements()));
  d.end = align64(d.output + static_cast<std::uint64_t>(g.output_elements()));
  return d;
}

HostController::HostController(const sc_core::sc_module_name& name, const ArchConfig& arch,
                               PeGroup& pe_group, TileHandshake& handshake,
                               std::vector<HostJob>& jobs, ActMode mode)
    : sc_core::sc_module(name),
      dram_initiator_socket("dram_initiator_socket"),
      weight_initiator_socket("weight_initiator_socket"),
      pattern_initiator_socket("pattern_initiator_socket"),
      data_initiator_socket("data_initiator_socket"),
      pac_initiator_socket("pac_initiator_socket"),
      post_process_initiator_socket("post_process_initiator_socket"),
      arch_(arch),
      pe_group_(pe_group),
      handshake_(handshake),
      jobs_(jobs),
      mode_(mode) {
  SC_THREAD(load_thread);
  SC_THREAD(drain_thread);
}

void HostController::transfer(tlm_utils::simple_initiator_socket<HostController>& socket,
                              tlm::tlm_command cmd, std::uint64_t address, std::uint8_t* data,
                              std::size_t length, sc_core::sc_time& delay,
                              ReadAheadExtension* next) {
  if (length == 0) return;
  auto run = [&](tlm::tlm_generic_payload& t) {
    const ScopedExtension<ReadAheadExtension> hint(t, next);
    t.set_command(cmd);
    t.set_address(address);
    t.set_data_ptr(data);
    t.set_data_length(static_cast<unsigned int>(length));
    t.set_streaming_width(static_cast<unsigned int>(length));
    t.set_byte_enable_ptr(nullptr);
    t.set_dmi_allowed(false);
    t.set_response_status(tlm::TLM_INCOMPLETE_RESPONSE);
    socket->b_transport(t, delay);
    if (t.is_response_error())
      SC_REPORT_ERROR(name(), ("DMA transfer failed: " + t.get_response_string()).c_str());
  };
  // The targets never wait inside b_transport, so one payload serves the
  // transfers of both threads without an allocation each; a transfer started
  // while it is in use would get its own.
  if (payload_in_use_) {
    tlm::tlm_generic_payload own;
    run(own);
    return;
  }
  payload_in_use_ = true;
  run(payload_);
  payload_in_use_ = false;
}

void HostController::debug_write_dram(std::uint64_t address, const std::uint8_t* data,
                                      std::size_t length, std::shared_ptr<const void> shared) {
  if (length == 0) return;
  tlm::tlm_generic_payload t;
  t.set_command(tlm::TLM_WRITE_COMMAND);
  t.set_address(address);
  t.set_data_ptr(const_cast<std::uint8_t*>(data));
  t.set_data_length(static_cast<unsigned int>(length));
  t.set_streaming_width(static_cast<unsigned int>(length));
  SharedDataExtension extension;
  extension.owner = std::move(shared);
  unsigned int done = 0;
  {
    const ScopedExtension<SharedDataExtension> scoped(t, extension.owner ? &extension : nullptr);
    done = dram_initiator_socket->transport_dbg(t);
  }
  if (done != length) SC_REPORT_ERROR(name(), "DRAM image load failed");
}

void HostController::debug_read_dram(std::uint64_t address, std::uint8_t* data,
                                     std::size_t length) {
  if (length == 0) return;
  tlm::tlm_generic_payload t;
  t.set_command(tlm::TLM_READ_COMMAND);
  t.set_address(address);
  t.set_data_ptr(data);
  t.set_data_length(static_cast<unsigned int>(length));
  t.set_streaming_width(static_cast<unsigned int>(length));
  if (dram_initiator_socket->transport_dbg(t) != length)
    SC_REPORT_ERROR(name(), "DRAM result read failed");
}

// From the layer's record in pattern_config.bin (docs/image-format.md): n, V
// and K (16-bit each) into the registers, the flags decide a dense layer
// (V = 0), and the mask table is copied byte for byte.
void HostController::program_pattern_config(const HostJob& job) {
  const std::vector<std::uint8_t>& rec = job.files->pattern_config;
  const std::size_t at = job.pattern_config_offset;
  auto u16 = [&](std::size_t a) {
    return static_cast<std::uint32_t>(rec[at + a] | rec[at + a + 1] << 8);
  };
  std::vector<std::uint8_t> regs(PatternConfig::kSize, 0);
  auto put32 = [&](std::uint64_t a, std::uint32_t v) { std::memcpy(&regs[a], &v, 4); };
  put32(PatternConfig::kRegN, u16(0));
  const bool pruned = rec[at + 6] != 0;
  const std::uint32_t v = pruned ? u16(2) : 0;
  if (v > static_cast<std::uint32_t>(PatternConfig::kMaxPatterns))
    SC_REPORT_ERROR(name(), "pattern table larger than the Pattern Config registers");
  put32(PatternConfig::kRegV, v);
  put32(PatternConfig::kRegK, u16(4));
  if (v > 0) std::memcpy(&regs[PatternConfig::kTableBase], &rec[at + 8], 2 * v);
  sc_core::sc_time delay = sc_core::SC_ZERO_TIME;
  transfer(pac_initiator_socket, tlm::TLM_WRITE_COMMAND, 0, regs.data(),
           PatternConfig::kTableBase + 2 * v, delay);
  wait(delay);
}

void HostController::load_input_band(const HostJob& job, const DramLayout& dl, int band) {
  const ConvGeometry& g = job.layer->geom;
  const BandPlan& b = job.plan.bands[band];
  const std::uint64_t row_bytes = static_cast<std::uint64_t>(g.in_w) * g.in_channels;
  const std::size_t bytes = static_cast<std::size_t>((b.in_row_end - b.in_row_begin) * row_bytes);
  buf_.resize(bytes);
  sc_core::sc_time delay = sc_core::SC_ZERO_TIME;
  transfer(dram_initiator_socket, tlm::TLM_READ_COMMAND, dl.input + b.in_row_begin * row_bytes,
           buf_.data(), bytes, delay);
  transfer(data_initiator_socket, tlm::TLM_WRITE_COMMAND, job.plan.input_buffer_address(band),
           buf_.data(), bytes, delay);
  wait(delay);
}

// One chunk: for every PE of the tile, the image span holding its kernels of
// the chunk's groups is read from DRAM (one access per PE, weights and SPM
// indices), then laid out as one kernel-register row per (group, PE) in Weight
// SRAM and one packed index block per group in Pattern SRAM.
void HostController::load_weight_chunk(const HostJob& job, const DramLayout& dl, int tile,
                                       int chunk, std::int64_t seq) {
  const SpmLayer& layer = *job.layer;
  const TilePlan& p = job.plan;
  const int C = layer.geom.in_channels;
  const int P = arch_.pe_count;
  const std::size_t regw = static_cast<std::size_t>(arch_.kernel_register_words);
  const int n = layer.n;
  const int kpr = p.channels_per_group;
  const int bits = p.index_bits;
  const int g0 = p.chunk_first_group(chunk), g1 = p.chunk_end_group(chunk);
  const int pes = std::min(P, layer.geom.out_channels - tile * P);
  const int c_begin = g0 * p.channels_per_group;
  const int c_end = std::min(C, g1 * p.channels_per_group);
  const std::int64_t per_row = layer.kernels_per_row();
  // Without padding at the ends of the image's rows (the register width a
  // multiple of n) a PE's kernels are one contiguous run in the image.
  const bool unpadded = per_row * n == layer.row_bytes();

  std::vector<std::uint8_t>& wsram = wsram_;
  std::vector<std::uint8_t>& psram = psram_;
  // Every Weight SRAM byte of the chunk is written below (kernels or zero
  // padding), so the buffer is only sized; the index blocks start zeroed.
  wsram.resize(p.weight_group_bytes * (g1 - g0));
  psram.assign(p.pattern_group_bytes * (g1 - g0), 0);
  // The image spans of PE pe's kernels [k0, k1) of the chunk: weights
  // [w0, w1) and SPM indices [b0, b1) (bytes, from the layer's parts).
  struct Spans {
    std::int64_t k0, k1;
    std::uint64_t w0, w1, b0 = 0, b1 = 0;
  };
  auto image_address = [&](std::int64_t k) {  // weight_address() without its division
    return unpadded ? static_cast<std::uint64_t>(k) * n : weight_address(layer, k);
  };
  auto spans = [&](int pe) {
    const std::int64_t m = static_cast<std::int64_t>(tile) * P + pe;
    Spans s{m * C + c_begin, m * C + c_end, 0, 0};
    s.w0 = image_address(s.k0);
    s.w1 = image_address(s.k1 - 1) + n;
    if (bits > 0) {
      s.b0 = static_cast<std::uint64_t>(s.k0) * bits / 8;
      s.b1 = (static_cast<std::uint64_t>(s.k1) * bits + 7) / 8;
    }
    return s;
  };
  // The DMA engine issues the per-PE reads back to back (the DRAM channel
  // queues them); the SRAM writes start when the last read has arrived. Each
  // read announces the one kReadAheadPes PEs later (ReadAheadExtension): one
  // PE's layout is too short to wait for memory.
  constexpr int kReadAheadPes = 2;
  sc_core::sc_time delay = sc_core::SC_ZERO_TIME;
  auto dram_read = [&](std::uint64_t address, std::uint8_t* data, std::size_t length,
                       ReadAheadExtension* next) {
    sc_core::sc_time d = sc_core::SC_ZERO_TIME;
    transfer(dram_initiator_socket, tlm::TLM_READ_COMMAND, address, data, length, d, next);
    delay = std::max(delay, d);
  };
  ReadAheadExtension next_weights, next_patterns;
  for (int pe = 0; pe < pes; ++pe) {
    const std::int64_t m = static_cast<std::int64_t>(tile) * P + pe;
    const Spans here = spans(pe);
    const std::uint64_t w0 = here.w0, b0 = here.b0;
    const bool more = pe + kReadAheadPes < pes;
    if (more) {
      const Spans ahead = spans(pe + kReadAheadPes);
      next_weights.address = dl.weights + ahead.w0;
      next_weights.length = ahead.w1 - ahead.w0;
      next_patterns.address = dl.patterns + ahead.b0;
      next_patterns.length = ahead.b1 - ahead.b0;
    }
    buf_.resize(here.w1 - w0);
    dram_read(dl.weights + w0, buf_.data(), here.w1 - w0, more ? &next_weights : nullptr);
    if (bits > 0) {
      buf2_.resize(here.b1 - b0);
      dram_read(dl.patterns + b0, buf2_.data(), here.b1 - b0, more ? &next_patterns : nullptr);
    }
    for (int g = g0; g < g1; ++g) {
      const int cg = p.group_channels(g, C);
      const std::int64_t kg = m * C + static_cast<std::int64_t>(g) * kpr;  // the group's first
      std::uint8_t* row = &wsram[(g - g0) * p.weight_group_bytes + pe * regw];
      const std::size_t used = static_cast<std::size_t>(cg) * n;
      if (unpadded) {
        std::memcpy(row, &buf_[image_address(kg) - w0], used);
      } else {
        // Kernels of one image row are contiguous there and in the register
        // row: one copy per run of them.
        for (int c = 0; c < cg;) {
          const std::int64_t k = kg + c;
          const int run = static_cast<int>(std::min<std::int64_t>(cg - c, per_row - k % per_row));
          std::memcpy(row + static_cast<std::size_t>(c) * n, &buf_[weight_address(layer, k) - w0],
                      static_cast<std::size_t>(run) * n);
          c += run;
        }
      }
      std::memset(row + used, 0, regw - used);
      if (bits > 0)
        // The group's indices of this PE, consecutive in the image span, moved
        // to slots (pe, 0..cg) of the group's block; the PE group unpacks
        // them with unpack_bits().
        copy_bit_field(&psram[(g - g0) * p.pattern_group_bytes], p.pattern_group_bytes,
                       static_cast<std::uint64_t>(pe) * kpr * bits, buf2_.data(), buf2_.size(),
                       static_cast<std::uint64_t>(kg) * bits - b0 * 8,
                       static_cast<std::uint64_t>(cg) * bits);
    }
  }
  // Rows of the PEs beyond the last output channel stay zero.
  for (int g = g0; g < g1; ++g)
    std::memset(&wsram[(g - g0) * p.weight_group_bytes + pes * regw], 0,
                p.weight_group_bytes - pes * regw);
  // Weight and Pattern SRAM are written in parallel.
  const int buffer = static_cast<int>(seq % p.weight_buffers);
  sc_core::sc_time wdelay = delay, pdelay = delay;
  transfer(weight_initiator_socket, tlm::TLM_WRITE_COMMAND, buffer * p.weight_buffer_bytes,
           wsram.data(), wsram.size(), wdelay);
  transfer(pattern_initiator_socket, tlm::TLM_WRITE_COMMAND, buffer * p.pattern_buffer_bytes,
           psram.data(), psram.size(), pdelay);
  wait(std::max(wdelay, pdelay));
}

void HostController::load_thread() {
  for (std::size_t j = 0; j < jobs_.size(); ++j) {
    if (before_layer) before_layer(j);
    HostJob& job = jobs_[j];
    const SpmLayer& layer = *job.layer;
    const TilePlan& p = job.plan;
    const DramLayout dl = dram_layout(job);
    // The layer's parts of the image files and its input are in DRAM when it
    // starts (untimed): the files' bytes at the manifest's offsets.
    // The files do not change during the run: DRAM maps their pages.
    debug_write_dram(dl.weights, job.files->weights.data() + job.weight_offset, dl.weight_bytes,
                     job.files);
    if (p.index_bits > 0)
      debug_write_dram(dl.patterns, job.files->patterns.data() + job.pattern_offset,
                       dl.pattern_bytes, job.files);
    const ConvGeometry& g = layer.geom;
    if (job.input) {  // a network's layers find their input in DRAM already
      std::vector<std::uint8_t>& hwc = buf_;
      hwc.resize(static_cast<std::size_t>(g.input_elements()));
      for (int c = 0; c < g.in_channels; ++c)
        for (int y = 0; y < g.in_h; ++y)
          for (int x = 0; x < g.in_w; ++x)
            hwc[(static_cast<std::size_t>(y) * g.in_w + x) * g.in_channels + c] =
                static_cast<std::uint8_t>(
                    (*job.input)[(static_cast<std::size_t>(c) * g.in_h + y) * g.in_w + x]);
      debug_write_dram(dl.input, hwc.data(), hwc.size());
    }

    program_pattern_config(job);
    handshake_.weight_chunks.reset(p.weight_buffers);
    handshake_.input_bands.reset(p.data_buffers);
    handshake_.output_bands.reset(p.data_buffers);
    if (on_layer_start) on_layer_start(j);
    job.start_time = sc_core::sc_time_stamp();
    pe_group_.start(layer, p, mode_);
    layer_started_ = j + 1;
    layer_done_.notify(sc_core::SC_ZERO_TIME);  // wakes the drain thread

    for (int band = 0; band < static_cast<int>(p.bands.size()); ++band) {
      while (!handshake_.input_bands.free_for(band)) wait(handshake_.input_bands.released_event);
      load_input_band(job, dl, band);
      handshake_.input_bands.fill();
      for (int tile = 0; tile < p.tiles; ++tile) {
        for (int chunk = 0; chunk < p.chunks_per_tile; ++chunk) {
          const std::int64_t seq = p.chunk_sequence(band, tile, chunk);
          while (!handshake_.weight_chunks.free_for(seq))
            wait(handshake_.weight_chunks.released_event);
          load_weight_chunk(job, dl, tile, chunk, seq);
          handshake_.weight_chunks.fill();
        }
      }
    }
    // The next layer starts when this one's results are in DRAM.
    while (!job.done) wait(layer_done_);
  }
  if (after_layers) after_layers();
  load_finished_ = true;
  load_finished_event_.notify(sc_core::SC_ZERO_TIME);
}

void HostController::drain_thread() {
  for (std::size_t j = 0; j < jobs_.size(); ++j) {
    while (layer_started_ <= j) wait(layer_done_);
    HostJob& job = jobs_[j];
    const SpmLayer& layer = *job.layer;
    const TilePlan& p = job.plan;
    const DramLayout dl = dram_layout(job);
    const ConvGeometry& g = layer.geom;
    const std::uint64_t row_bytes = static_cast<std::uint64_t>(g.out_w()) * g.out_channels;
    for (int band = 0; band < static_cast<int>(p.bands.size()); ++band) {
      while (!handshake_.output_bands.ready(band)) wait(handshake_.output_bands.filled_event);
      const BandPlan& b = p.bands[band];
      const std::size_t bytes =
          static_cast<std::size_t>((b.out_row_end - b.out_row_begin) * row_bytes);
      std::vector<std::uint8_t>& out = drain_buf_;
      out.resize(bytes);
      sc_core::sc_time delay = sc_core::SC_ZERO_TIME;
      transfer(data_initiator_socket, tlm::TLM_READ_COMMAND, p.output_buffer_address(band),
               out.data(), bytes, delay);
      transfer(dram_initiator_socket, tlm::TLM_WRITE_COMMAND,
               dl.output + b.out_row_begin * row_bytes, out.data(), bytes, delay);
      wait(delay);
      handshake_.output_bands.release();
    }
    if (pe_group_.busy()) wait(pe_group_.done_event);
    // Result back to the caller, [M][OH][OW].
    std::vector<std::uint8_t>& hwc = drain_buf_;
    hwc.resize(static_cast<std::size_t>(g.output_elements()));
    debug_read_dram(dl.output, hwc.data(), hwc.size());
    const int OH = g.out_h(), OW = g.out_w(), M = g.out_channels;
    job.output.resize(hwc.size());
    for (int y = 0; y < OH; ++y)
      for (int x = 0; x < OW; ++x)
        for (int m = 0; m < M; ++m)
          job.output[(static_cast<std::size_t>(m) * OH + y) * OW + x] =
              static_cast<std::int8_t>(hwc[(static_cast<std::size_t>(y) * OW + x) * M + m]);
    job.end_time = sc_core::sc_time_stamp();
    job.done = true;
    if (on_layer_end) on_layer_end(j);
    layer_done_.notify(sc_core::SC_ZERO_TIME);
  }
  // Both threads return before the run stops, so nothing they hold outlives it.
  while (!load_finished_) wait(load_finished_event_);
  finished_ = true;
  sc_core::sc_stop();
}

}  // namespace pcnn
