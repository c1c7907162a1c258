#include "pcnn/prune/report.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <sstream>

#include "pcnn/core/printable.hpp"

namespace pcnn {
namespace {

using nlohmann::json;

double ratio(double num, double den) { return den > 0.0 ? num / den : 0.0; }

// A 3x3 mask drawn row by row, e.g. "x.x/.x./x.x".
std::string mask_picture(std::uint32_t mask, int kh, int kw) {
  std::string s;
  for (int r = 0; r < kh; ++r) {
    if (r) s += '/';
    for (int c = 0; c < kw; ++c) s += ((mask >> (r * kw + c)) & 1u) ? 'x' : '.';
  }
  return s;
}

json storage_json(const StorageCounts& s) {
  return json{{"kernels", s.kernels},
              {"params_before", s.dense_weights},
              {"params_after", s.kept_weights},
              {"macs_before", s.macs_dense},
              {"macs_after", s.macs_pruned},
              {"index_bits", s.index_bits},
              {"weight_image_bytes", s.weight_image_bytes},
              {"pattern_image_bytes", s.pattern_image_bytes},
              {"compression_weight_fp32", s.compression_weight_fp32()},
              {"compression_weight_idx_fp32", s.compression_weight_idx_fp32()},
              {"compression_weight_int8", s.compression_weight_int8()},
              {"compression_weight_idx_int8", s.compression_weight_idx_int8()},
              {"compression_stored_int8", s.compression_stored_int8()},
              {"index_overhead_int8", s.index_overhead_int8()},
              {"csc_entries", s.csc_entries},
              {"csc_padding_entries", s.csc_entries - s.kept_weights},
              {"csc_index_bits", s.csc_index_bits()},
              {"compression_csc_fp32", s.compression_csc_fp32()},
              {"compression_csc_int8", s.compression_csc_int8()},
              {"csc_index_overhead_int8", s.csc_index_overhead_int8()}};
}

const char* quant_name(QuantGranularity q) {
  return q == QuantGranularity::kPerLayer ? "per-layer" : "per-channel";
}

json budget_json(int v) {
  if (v == kPatternsFull) return "full";
  if (v == kPatternsDefault) return "default";
  return v;
}

json calibration_json(const CalibrationOutcome& c) {
  json j{{"status", c.status}, {"samples", c.samples}, {"source", c.source}};
  if (!c.reason.empty()) j["reason"] = c.reason;
  return j;
}

}  // namespace

StorageCounts& StorageCounts::operator+=(const StorageCounts& o) {
  kernels += o.kernels;
  dense_weights += o.dense_weights;
  kept_weights += o.kept_weights;
  index_bits += o.index_bits;
  weight_image_bytes += o.weight_image_bytes;
  pattern_image_bytes += o.pattern_image_bytes;
  csc_entries += o.csc_entries;
  macs_dense += o.macs_dense;
  macs_pruned += o.macs_pruned;
  return *this;
}

double StorageCounts::compression_weight_fp32() const {
  return ratio(32.0 * dense_weights, 32.0 * kept_weights);
}
double StorageCounts::compression_weight_idx_fp32() const {
  return ratio(32.0 * dense_weights, 32.0 * kept_weights + index_bits);
}
double StorageCounts::compression_weight_int8() const {
  return ratio(8.0 * dense_weights, 8.0 * kept_weights);
}
double StorageCounts::compression_weight_idx_int8() const {
  return ratio(8.0 * dense_weights, 8.0 * kept_weights + index_bits);
}
double StorageCounts::compression_stored_int8() const {
  return ratio(static_cast<double>(dense_weights),
               static_cast<double>(weight_image_bytes + pattern_image_bytes));
}
double StorageCounts::index_overhead_int8() const {
  return ratio(static_cast<double>(index_bits), 8.0 * kept_weights);
}
double StorageCounts::compression_csc_fp32() const {
  return ratio(32.0 * dense_weights, (32.0 + 4.0) * csc_entries);
}
double StorageCounts::compression_csc_int8() const {
  return ratio(8.0 * dense_weights, (8.0 + 4.0) * csc_entries);
}
double StorageCounts::csc_index_overhead_int8() const {
  return ratio(static_cast<double>(csc_index_bits()), 8.0 * kept_weights);
}

StorageCounts layer_storage(const SpmLayer& layer) {
  const ConvGeometry& g = layer.geom;
  const int K = g.kernel_size();
  StorageCounts s;
  s.kernels = g.kernel_count();
  s.dense_weights = s.kernels * K;
  s.kept_weights = s.kernels * layer.n;
  s.index_bits = s.kernels * layer.index_bits();
  const std::int64_t per_row = layer.kernels_per_row();
  s.weight_image_bytes = (s.kernels + per_row - 1) / per_row * layer.row_bytes();
  s.pattern_image_bytes = (s.index_bits + 7) / 8;
  s.macs_dense = g.dense_macs();
  s.macs_pruned = g.dense_macs() / K * layer.n;

  // CSC over each output channel's column of Cg*K positions.
  const std::int64_t cg = g.in_channels_per_group();
  for (std::int64_t m = 0; m < g.out_channels; ++m) {
    std::int64_t gap = 0;
    for (std::int64_t c = 0; c < cg; ++c) {
      const std::int64_t k = m * cg + c;
      const std::uint32_t mask =
          layer.pattern_pruned ? layer.patterns[layer.kernel_index[static_cast<std::size_t>(k)]]
                               : 0xffffffffu;
      for (int p = 0; p < K; ++p) {
        const bool kept = !layer.pattern_pruned || ((mask >> p) & 1u);
        if (!kept) {
          ++gap;
          continue;
        }
        s.csc_entries += 1 + gap / 16;
        gap = 0;
      }
    }
  }
  return s;
}

json make_report(const PrunedModel& pm, const PruneOptions& options) {
  json layers = json::array();
  json warnings = json::array();
  StorageCounts total;
  double energy = 0.0, removed = 0.0;
  for (std::size_t l = 0; l < pm.images.layers.size(); ++l) {
    const SpmLayer& layer = pm.images.layers[l];
    const LayerPruneStats& st = pm.stats[l];
    const StorageCounts s = layer_storage(layer);
    total += s;
    energy += st.weight_energy;
    removed += st.removed_energy;
    const ConvGeometry& g = layer.geom;
    json kept = json::array();
    for (std::size_t i = 0; i < layer.patterns.size(); ++i) {
      std::int64_t nearest = 0;
      for (const PatternCount& c : st.nearest)
        if (c.mask == layer.patterns[i]) nearest = c.count;
      kept.push_back(json{{"spm_index", i},
                          {"mask", layer.patterns[i]},
                          {"picture", mask_picture(layer.patterns[i], g.kernel_h, g.kernel_w)},
                          {"nearest_count", nearest},
                          {"assigned", i < st.assigned.size() ? st.assigned[i] : 0}});
    }
    json hist = json::array();
    for (const PatternCount& c : st.nearest)
      hist.push_back(json{{"mask", c.mask}, {"count", c.count}});
    json j{{"name", layer.name},
           {"index", layer.index},
           {"shape",
            {{"in_channels", g.in_channels},
             {"out_channels", g.out_channels},
             {"in_h", g.in_h},
             {"in_w", g.in_w},
             {"out_h", g.out_h()},
             {"out_w", g.out_w()},
             {"kernel_h", g.kernel_h},
             {"kernel_w", g.kernel_w},
             {"group", g.group}}},
           {"pattern_pruned", layer.pattern_pruned},
           {"n", layer.n},
           {"V", layer.num_patterns()},
           {"index_bits", layer.index_bits()},
           {"kept_patterns", kept},
           {"nearest_pattern_histogram", hist},
           {"projection_error", st.projection_error()},
           {"storage", storage_json(s)},
           {"input_scale", layer.input_scale},
           {"output_scale", layer.output_scale},
           {"relu", layer.relu}};
    if (!layer.pattern_pruned) j["dense_reason"] = pm.settings[l].dense_reason;
    j["fine_tuning_advised"] = st.projection_error() > kProjectionErrorWarning;
    if (j["fine_tuning_advised"].get<bool>()) {
      char text[160];
      std::snprintf(text, sizeof text,
                    "projection removes %.1f%% of the weight norm (above %.0f%%): "
                    "fine-tune before use",
                    100.0 * st.projection_error(), 100.0 * kProjectionErrorWarning);
      warnings.push_back(json{{"layer", layer.name}, {"index", layer.index}, {"message", text}});
    }
    layers.push_back(j);
  }
  json totals = storage_json(total);
  totals["projection_error"] = energy > 0.0 ? std::sqrt(removed / energy) : 0.0;
  totals["layers"] = pm.images.layers.size();
  std::int64_t dense_layers = 0;
  for (const SpmLayer& l : pm.images.layers) dense_layers += l.pattern_pruned ? 0 : 1;
  totals["dense_layers"] = dense_layers;

  return json{{"model", {{"name", pm.images.model_name}, {"source_file", pm.images.source_file}}},
              {"options",
               {{"n", options.n},
                {"patterns", budget_json(options.patterns)},
                {"layers_file", options.layers_file},
                {"quant", quant_name(options.quant)},
                {"calib_samples", options.calib_samples},
                {"calib", options.calib_path},
                {"seed", options.seed},
                {"reuse_patterns", options.reuse_patterns_file}}},
              {"warnings", warnings},
              {"calibration", calibration_json(pm.calibration)},
              {"notes", pm.notes},
              {"images_identity", pm.images.identity},
              {"layers", layers},
              {"totals", totals},
              {"paper_onchip_index_overhead",
               {{"weight_sram_bytes", kPaperWeightSramBytes},
                {"pattern_sram_bytes", kPaperPatternSramBytes},
                {"ratio", static_cast<double>(kPaperPatternSramBytes) / kPaperWeightSramBytes}}}};
}

std::string format_report(const json& r) {
  std::ostringstream out;
  char line[512];
  out << "model " << r["model"]["name"].get<std::string>() << " ("
      << r["model"]["source_file"].get<std::string>() << "), quant "
      << r["options"]["quant"].get<std::string>() << "\n";
  for (const json& note : r["notes"]) out << "note: " << note.get<std::string>() << "\n";
  const json& cal = r["calibration"];
  const std::string status = cal["status"].get<std::string>();
  if (status == "failed")
    out << "calibration: NOT CALIBRATED, the float pass cannot run the graph: "
        << cal["reason"].get<std::string>()
        << "\n  activation scales use unit ranges (absmax 1); the int8 outputs are not "
           "meaningful\n";
  else if (status == "off")
    out << "calibration: off (--calib-samples 0): activation scales use unit ranges (absmax 1)\n";
  else
    out << "calibration: " << cal["samples"].get<int>() << " input(s), "
        << (status == "data" ? "data from " : "") << cal["source"].get<std::string>() << "\n";
  std::snprintf(line, sizeof line, "%3s %-22s %2s %4s %4s %7s %10s %10s %11s %6s %6s %6s %6s %6s\n",
                "#", "layer", "n", "V", "bits", "err", "params", "kept", "MACs kept", "w", "w+idx",
                "int8", "stored", "CSC");
  out << line;
  auto row = [&](const std::string& idx, const std::string& name, const std::string& n,
                 const std::string& V, const std::string& bits, double err, const json& s) {
    std::snprintf(
        line, sizeof line,
        "%3s %-22s %2s %4s %4s %6.2f%% %10lld %10lld %11lld %5.2fx %5.2fx %5.2fx %5.2fx %5.2fx\n",
        idx.c_str(), name.substr(0, 22).c_str(), n.c_str(), V.c_str(), bits.c_str(), 100.0 * err,
        static_cast<long long>(s["params_before"].get<std::int64_t>()),
        static_cast<long long>(s["params_after"].get<std::int64_t>()),
        static_cast<long long>(s["macs_after"].get<std::int64_t>()),
        s["compression_weight_fp32"].get<double>(), s["compression_weight_idx_fp32"].get<double>(),
        s["compression_weight_idx_int8"].get<double>(), s["compression_stored_int8"].get<double>(),
        s["compression_csc_fp32"].get<double>());
    out << line;
  };
  for (const json& l : r["layers"]) {
    row(std::to_string(l["index"].get<int>()), l["name"].get<std::string>(),
        std::to_string(l["n"].get<int>()),
        l["pattern_pruned"].get<bool>() ? std::to_string(l["V"].get<int>()) : "-",
        std::to_string(l["index_bits"].get<int>()), l["projection_error"].get<double>(),
        l["storage"]);
  }
  const json& t = r["totals"];
  row("", "total", "", "", "", t["projection_error"].get<double>(), t);
  out << "compression: w / w+idx = fp32 dense vs fp32 kept weights (+ SPM index bits); int8 = the"
         " same in int8;\n  stored = int8 dense vs weights.bin + patterns.bin; CSC = EIE-style"
         " fp32 + 4-bit index\n";
  std::snprintf(line, sizeof line,
                "SPM index overhead %.2f%% of int8 weight bits (CSC index: %.2f%%); paper's on-chip"
                " index memory %lld KB / %lld KB = %.1f%%\n",
                100.0 * t["index_overhead_int8"].get<double>(),
                100.0 * t["csc_index_overhead_int8"].get<double>(),
                static_cast<long long>(kPaperPatternSramBytes / 1024),
                static_cast<long long>(kPaperWeightSramBytes / 1024),
                100.0 * r["paper_onchip_index_overhead"]["ratio"].get<double>());
  out << line;
  for (const json& l : r["layers"]) {
    if (!l["pattern_pruned"].get<bool>()) {
      out << "dense: " << l["name"].get<std::string>() << " ("
          << l["dense_reason"].get<std::string>() << ")\n";
      continue;
    }
    out << "patterns " << l["name"].get<std::string>() << ":";
    const json& kept = l["kept_patterns"];
    const std::size_t show = std::min<std::size_t>(kept.size(), 8);
    for (std::size_t i = 0; i < show; ++i)
      out << " " << kept[i]["picture"].get<std::string>() << "="
          << kept[i]["assigned"].get<std::int64_t>();
    if (kept.size() > show) out << " (+" << kept.size() - show << " more in report.json)";
    out << "\n";
  }
  const json& warnings = r["warnings"];
  if (!warnings.empty()) {
    double worst = 0.0;
    std::string worst_name;
    for (const json& l : r["layers"])
      if (l["projection_error"].get<double>() > worst) {
        worst = l["projection_error"].get<double>();
        worst_name = l["name"].get<std::string>();
      }
    std::snprintf(line, sizeof line,
                  "warning: %zu of %zu layers lose more than %.0f%% of their weight norm to the "
                  "projection (worst %s, %.1f%%); accuracy needs pattern-aware fine-tuning:\n"
                  "  tools/finetune (docs/accuracy.md), then pcnn-prune --reuse-patterns "
                  "report.json on the fine-tuned model\n",
                  warnings.size(), r["layers"].size(), 100.0 * kProjectionErrorWarning,
                  worst_name.substr(0, 60).c_str(), 100.0 * worst);
    out << line;
  }
  // Names and file names come from the model: escaped for the terminal.
  return printable(out.str(), true);
}

}  // namespace pcnn
