#include "pcnn/network/int8_network.hpp"

#include <zlib.h>

#include <cerrno>
#include <cmath>
#include <cstring>
#include <fstream>
#include <iterator>

#include <nlohmann/json.hpp>

#include "pcnn/core/error.hpp"
#include "pcnn/core/input_file.hpp"
#include "pcnn/core/tensor_limit.hpp"
#include "pcnn/image/staging_dir.hpp"

namespace pcnn {
namespace {

using json = nlohmann::json;
constexpr int kNetworkFormatVersion = 1;

const Int8Op kAllOps[] = {Int8Op::conv,
                          Int8Op::gemm,
                          Int8Op::rescale,
                          Int8Op::relu,
                          Int8Op::clip,
                          Int8Op::max_pool,
                          Int8Op::average_pool,
                          Int8Op::global_average_pool,
                          Int8Op::global_max_pool,
                          Int8Op::add,
                          Int8Op::concat,
                          Int8Op::reshape,
                          Int8Op::resize_nearest,
                          Int8Op::depth_to_space};

std::string hex32(std::uint32_t v) {
  char b[9];
  std::snprintf(b, sizeof b, "%08x", v);
  return b;
}

std::string shape_text(const std::vector<std::int64_t>& s) {
  std::string t = "[";
  for (std::size_t i = 0; i < s.size(); ++i) t += (i ? "," : "") + std::to_string(s[i]);
  return t + "]";
}

// Output length of a pooling window along one axis, as the float pass computes it.
std::int64_t window_positions(std::int64_t in, int k, int s, int d, int pad_begin, int pad_end,
                              std::int64_t out) {
  (void)k;
  (void)d;
  (void)pad_end;
  // Every output window must start inside the padded input.
  return (out - 1) * s - pad_begin < in + pad_end ? out : -1;
}

}  // namespace

const char* to_string(Int8Op op) {
  switch (op) {
    case Int8Op::conv:
      return "conv";
    case Int8Op::gemm:
      return "gemm";
    case Int8Op::rescale:
      return "rescale";
    case Int8Op::relu:
      return "relu";
    case Int8Op::clip:
      return "clip";
    case Int8Op::max_pool:
      return "max_pool";
    case Int8Op::average_pool:
      return "average_pool";
    case Int8Op::global_average_pool:
      return "global_average_pool";
    case Int8Op::global_max_pool:
      return "global_max_pool";
    case Int8Op::add:
      return "add";
    case Int8Op::concat:
      return "concat";
    case Int8Op::reshape:
      return "reshape";
    case Int8Op::resize_nearest:
      return "resize_nearest";
    case Int8Op::depth_to_space:
      return "depth_to_space";
  }
  return "?";
}

std::int64_t NetTensor::elements() const {
  std::int64_t n = 1;
  for (auto d : shape) n *= d;
  return n;
}

Rescale make_rescale(const std::vector<double>& ratios) {
  double largest = 0.0;
  for (double r : ratios) {
    if (!std::isfinite(r) || r <= 0.0)
      throw Error("rescale", "ratio " + std::to_string(r) + " is not a positive finite number");
    largest = std::max(largest, r);
  }
  int e = 0;
  std::frexp(largest, &e);  // largest = f * 2^e, f in [0.5, 1)
  Rescale rs;
  rs.shift = 31 - e;
  if (rs.shift > 62) rs.shift = 62;
  if (rs.shift < 1)
    throw Error("rescale", "scale ratio " + std::to_string(largest) +
                               " is 2^30 or larger (degenerate scales)");
  for (double r : ratios) rs.multipliers.push_back(std::llround(std::ldexp(r, rs.shift)));
  return rs;
}

void Int8Network::validate(const std::vector<SpmLayer>& conv_layers,
                           const std::string& where) const {
  const int T = static_cast<int>(tensors.size());
  auto bad = [&](const std::string& what) { throw Error(where, what); };
  if (T == 0) bad("the network has no tensors");
  if (input < 0 || input >= T || output < 0 || output >= T)
    bad("input or output index out of range");
  for (const NetTensor& t : tensors) {
    if (t.shape.empty() || t.shape.size() > 4) bad("tensor '" + t.name + "' has rank 0 or above 4");
    for (auto d : t.shape)
      if (d < 1 || d > (1 << 24)) bad("tensor '" + t.name + "' has shape " + shape_text(t.shape));
    check_tensor_shape(where, "tensor '" + t.name + "'", t.shape);
    if (!(t.scale > 0.0f) || !std::isfinite(t.scale))
      bad("tensor '" + t.name + "' has a bad scale");
  }
  if (tensors[input].shape.size() != 4 || tensors[input].shape[0] != 1)
    bad("the input is not batch-1 NCHW");
  std::vector<bool> defined(tensors.size(), false);
  defined[input] = true;
  for (const NetNode& n : nodes) {
    const std::string at = "node '" + n.name + "' (" + to_string(n.op) + ")";
    auto fail = [&](const std::string& what) { bad(at + ": " + what); };
    if (n.output < 0 || n.output >= T) fail("output index out of range");
    if (defined[n.output]) fail("writes tensor '" + tensors[n.output].name + "' a second time");
    const bool many = n.op == Int8Op::add || n.op == Int8Op::concat;
    if (n.inputs.empty() || (!many && n.inputs.size() != 1) ||
        (n.op == Int8Op::add && n.inputs.size() != 2))
      fail("wrong number of inputs");
    for (int i : n.inputs)
      if (i < 0 || i >= T || !defined[i]) fail("reads a tensor that is not computed before it");
    const NetTensor& x = tensors[n.inputs[0]];
    const NetTensor& y = tensors[n.output];
    auto nchw = [&](const NetTensor& t) {
      if (t.shape.size() != 4 || t.shape[0] != 1)
        fail("tensor '" + t.name + "' is not batch-1 NCHW");
    };
    auto same_scale = [&]() {
      if (x.scale != y.scale) fail("input and output scales differ");
    };
    if (n.op == Int8Op::rescale || n.op == Int8Op::add || n.op == Int8Op::concat) {
      if (n.rescale.multipliers.size() != n.inputs.size()) fail("one multiplier per input needed");
      if (n.rescale.shift < 1 || n.rescale.shift > 62) fail("shift out of range 1..62");
      for (auto m : n.rescale.multipliers)
        if (m < 0 || m > (std::int64_t{1} << 32)) fail("multiplier out of range");
    }
    if (n.lo < -128 || n.hi > 127 || n.lo > n.hi) fail("bounds out of the int8 range");
    switch (n.op) {
      case Int8Op::conv:
      case Int8Op::gemm: {
        const std::vector<SpmLayer>& pool = n.op == Int8Op::conv ? conv_layers : gemm_layers;
        if (n.layer < 0 || n.layer >= static_cast<int>(pool.size()))
          fail("layer index out of range");
        const ConvGeometry& g = pool[n.layer].geom;
        if (x.elements() != g.input_elements()) fail("input size differs from the layer's");
        if (y.elements() != g.output_elements()) fail("output size differs from the layer's");
        if (n.op == Int8Op::conv) {
          nchw(x);
          if (x.shape[1] != g.in_channels || x.shape[2] != g.in_h || x.shape[3] != g.in_w)
            fail("input shape differs from the layer's");
        }
        if (pool[n.layer].input_scale != x.scale || pool[n.layer].output_scale != y.scale)
          fail("tensor scales differ from the layer's");
        break;
      }
      case Int8Op::rescale:
      case Int8Op::relu:
      case Int8Op::clip:
      case Int8Op::reshape:
        if (x.elements() != y.elements()) fail("input and output sizes differ");
        if (n.op != Int8Op::rescale) same_scale();
        break;
      case Int8Op::max_pool:
      case Int8Op::average_pool: {
        nchw(x);
        nchw(y);
        same_scale();
        if (n.kernel_h < 1 || n.kernel_w < 1 || n.stride_h < 1 || n.stride_w < 1 ||
            n.dilation_h < 1 || n.dilation_w < 1 || n.pad_top < 0 || n.pad_left < 0 ||
            n.pad_bottom < 0 || n.pad_right < 0 || n.kernel_h > 64 || n.kernel_w > 64)
          fail("bad window");
        if (y.shape[1] != x.shape[1] ||
            window_positions(x.shape[2], n.kernel_h, n.stride_h, n.dilation_h, n.pad_top,
                             n.pad_bottom, y.shape[2]) < 0 ||
            window_positions(x.shape[3], n.kernel_w, n.stride_w, n.dilation_w, n.pad_left,
                             n.pad_right, y.shape[3]) < 0)
          fail("output shape does not fit the window");
        break;
      }
      case Int8Op::global_average_pool:
      case Int8Op::global_max_pool:
        nchw(x);
        if (y.shape != std::vector<std::int64_t>{1, x.shape[1], 1, 1})
          fail("output must be [1,C,1,1]");
        same_scale();
        break;
      case Int8Op::add:
        if (tensors[n.inputs[1]].shape != x.shape || y.shape != x.shape) fail("shapes differ");
        break;
      case Int8Op::concat: {
        nchw(y);
        std::int64_t channels = 0;
        for (int i : n.inputs) {
          const NetTensor& t = tensors[i];
          nchw(t);
          if (t.shape[2] != y.shape[2] || t.shape[3] != y.shape[3]) fail("spatial sizes differ");
          channels += t.shape[1];
        }
        if (channels != y.shape[1]) fail("channels do not add up");
        break;
      }
      case Int8Op::resize_nearest:
        nchw(x);
        nchw(y);
        same_scale();
        if (y.shape[1] != x.shape[1] || static_cast<std::int64_t>(n.rows.size()) != y.shape[2] ||
            static_cast<std::int64_t>(n.cols.size()) != y.shape[3])
          fail("index tables do not fit the output");
        for (auto r : n.rows)
          if (r < 0 || r >= x.shape[2]) fail("row index out of range");
        for (auto c : n.cols)
          if (c < 0 || c >= x.shape[3]) fail("column index out of range");
        break;
      case Int8Op::depth_to_space:
        nchw(x);
        nchw(y);
        same_scale();
        if (n.block < 1 || n.block > 64 ||
            y.shape != std::vector<std::int64_t>{1, x.shape[1] / (n.block * n.block),
                                                 x.shape[2] * n.block, x.shape[3] * n.block} ||
            x.shape[1] % (n.block * n.block) != 0)
          fail("shapes do not fit the block size");
        break;
    }
    defined[n.output] = true;
  }
  if (!defined[output]) bad("the output tensor is never computed");
  for (const SpmLayer& l : gemm_layers) {
    if (gemm_weights_read)
      l.validate();
    else
      l.validate_parameters();
  }
}

std::vector<int> conv_input_signs(const Int8Network& net, std::size_t conv_layers) {
  std::vector<int> signs(conv_layers, -1);
  for (const NetNode& n : net.nodes)
    if (n.op == Int8Op::conv && n.layer >= 0 && static_cast<std::size_t>(n.layer) < conv_layers)
      signs[static_cast<std::size_t>(n.layer)] = net.tensors[n.inputs[0]].non_negative ? 1 : 0;
  return signs;
}

namespace {

json layer_json(const SpmLayer& l, std::uint64_t offset) {
  std::vector<std::int32_t> mult, shift;
  for (const Requant& r : l.requant) {
    mult.push_back(r.multiplier);
    shift.push_back(r.shift);
  }
  return json{{"name", l.name},
              {"in_features", l.geom.in_channels},
              {"out_features", l.geom.out_channels},
              {"weights", {{"offset", offset}, {"size", l.nonzeros.size()}}},
              {"weight_scale", l.weight_scale},
              {"input_scale", l.input_scale},
              {"output_scale", l.output_scale},
              {"bias", l.bias},
              {"requant_multiplier", mult},
              {"requant_shift", shift}};
}

}  // namespace

void write_int8_network_files(const Int8Network& net, const std::string& dir) {
  std::string bin;
  json gemms = json::array();
  for (const SpmLayer& l : net.gemm_layers) {
    gemms.push_back(layer_json(l, bin.size()));
    bin.append(reinterpret_cast<const char*>(l.nonzeros.data()), l.nonzeros.size());
  }
  json tensors = json::array();
  for (const NetTensor& t : net.tensors)
    tensors.push_back(json{{"name", t.name},
                           {"shape", t.shape},
                           {"scale", t.scale},
                           {"non_negative", t.non_negative}});
  json nodes = json::array();
  for (const NetNode& n : net.nodes) {
    json j{{"op", to_string(n.op)}, {"name", n.name}, {"inputs", n.inputs}, {"output", n.output}};
    switch (n.op) {
      case Int8Op::conv:
      case Int8Op::gemm:
        j["layer"] = n.layer;
        break;
      case Int8Op::max_pool:
      case Int8Op::average_pool:
        j["window"] = {{"kernel", {n.kernel_h, n.kernel_w}},
                       {"stride", {n.stride_h, n.stride_w}},
                       {"dilation", {n.dilation_h, n.dilation_w}},
                       {"pads", {n.pad_top, n.pad_left, n.pad_bottom, n.pad_right}},
                       {"count_include_pad", n.count_include_pad}};
        break;
      case Int8Op::rescale:
      case Int8Op::add:
      case Int8Op::concat:
        j["multipliers"] = n.rescale.multipliers;
        j["shift"] = n.rescale.shift;
        j["lo"] = n.lo;
        break;
      case Int8Op::relu:
      case Int8Op::clip:
        j["lo"] = n.lo;
        j["hi"] = n.hi;
        break;
      case Int8Op::resize_nearest:
        j["rows"] = n.rows;
        j["cols"] = n.cols;
        break;
      case Int8Op::depth_to_space:
        j["block"] = n.block;
        j["mode"] = n.crd ? "CRD" : "DCR";
        break;
      default:
        break;
    }
    nodes.push_back(j);
  }
  const std::uint32_t crc = static_cast<std::uint32_t>(
      ::crc32(0L, reinterpret_cast<const Bytef*>(bin.data()), static_cast<uInt>(bin.size())));
  const json doc{{"format", "pcnn-int8-network"},
                 {"version", kNetworkFormatVersion},
                 {"images_identity", net.images_identity},
                 {"input", net.input},
                 {"output", net.output},
                 {"dropped_softmax", net.dropped_softmax},
                 {"tensors", tensors},
                 {"nodes", nodes},
                 {"gemm_layers", gemms},
                 {"network.bin", {{"size", bin.size()}, {"crc32", hex32(crc)}}}};
  write_file_synced(dir + "/network.bin", bin);
  write_file_synced(dir + "/network.json", json_text(doc, 1) + "\n");
}

Int8Network read_int8_network(const std::string& dir, const std::vector<SpmLayer>& conv_layers,
                              GemmWeights gemm_weights) {
  const std::string jpath = dir + "/network.json";
  const std::string bpath = dir + "/network.bin";
  std::ifstream jin(jpath);
  if (!jin)
    throw Error(jpath, std::string("cannot open: ") + std::strerror(errno) +
                           " (pcnn-prune writes it when it can describe the whole network;"
                           " see report.json \"network\")");
  Int8Network net;
  try {
    const json doc = json::parse(jin);
    if (doc.at("format").get<std::string>() != "pcnn-int8-network")
      throw Error(jpath, "not a pcnn int8 network description");
    if (doc.at("version").get<int>() != kNetworkFormatVersion)
      throw Error(jpath, "unknown format version " + doc.at("version").dump() +
                             " (this reader knows version 1)");
    net.gemm_weights_read = gemm_weights == GemmWeights::read;
    const json& binfo = doc.at("network.bin");
    std::string bin;
    if (net.gemm_weights_read) {
      std::ifstream bin_in(bpath, std::ios::binary);
      if (!bin_in) throw Error(bpath, std::string("cannot open: ") + std::strerror(errno));
      bin.assign(std::istreambuf_iterator<char>(bin_in), std::istreambuf_iterator<char>());
      const std::uint32_t crc = static_cast<std::uint32_t>(
          ::crc32(0L, reinterpret_cast<const Bytef*>(bin.data()), static_cast<uInt>(bin.size())));
      if (bin.size() != binfo.at("size").get<std::uint64_t>() ||
          hex32(crc) != binfo.at("crc32").get<std::string>())
        throw Error(bpath, "size or checksum differs from network.json");
    }
    // The file's size as network.json gives it, which a run without the weights trusts.
    const std::uint64_t bin_size =
        net.gemm_weights_read ? bin.size() : binfo.at("size").get<std::uint64_t>();
    net.images_identity = doc.at("images_identity").get<std::string>();
    net.input = doc.at("input").get<int>();
    net.output = doc.at("output").get<int>();
    net.dropped_softmax = doc.at("dropped_softmax").get<std::string>();
    for (const json& t : doc.at("tensors")) {
      NetTensor x;
      x.name = t.at("name").get<std::string>();
      x.shape = t.at("shape").get<std::vector<std::int64_t>>();
      x.scale = t.at("scale").get<float>();
      x.non_negative = t.at("non_negative").get<bool>();
      net.tensors.push_back(std::move(x));
    }
    for (const json& j : doc.at("nodes")) {
      NetNode n;
      const std::string op = j.at("op").get<std::string>();
      n.name = j.at("name").get<std::string>();
      bool known = false;
      for (Int8Op o : kAllOps)
        if (op == to_string(o)) {
          n.op = o;
          known = true;
        }
      if (!known)
        throw Error(jpath, "node '" + n.name + "': operator '" + op +
                               "' is outside the int8 operator set (docs/quantisation.md)");
      n.inputs = j.at("inputs").get<std::vector<int>>();
      n.output = j.at("output").get<int>();
      if (j.contains("layer")) n.layer = j.at("layer").get<int>();
      if (j.contains("window")) {
        const json& w = j.at("window");
        const auto k = w.at("kernel").get<std::vector<int>>();
        const auto s = w.at("stride").get<std::vector<int>>();
        const auto d = w.at("dilation").get<std::vector<int>>();
        const auto p = w.at("pads").get<std::vector<int>>();
        if (k.size() != 2 || s.size() != 2 || d.size() != 2 || p.size() != 4)
          throw Error(jpath, "node '" + n.name + "': bad window");
        n.kernel_h = k[0], n.kernel_w = k[1], n.stride_h = s[0], n.stride_w = s[1];
        n.dilation_h = d[0], n.dilation_w = d[1];
        n.pad_top = p[0], n.pad_left = p[1], n.pad_bottom = p[2], n.pad_right = p[3];
        n.count_include_pad = w.at("count_include_pad").get<bool>();
      }
      if (j.contains("multipliers")) {
        n.rescale.multipliers = j.at("multipliers").get<std::vector<std::int64_t>>();
        n.rescale.shift = j.at("shift").get<int>();
      }
      if (j.contains("lo")) n.lo = j.at("lo").get<int>();
      if (j.contains("hi")) n.hi = j.at("hi").get<int>();
      if (j.contains("rows")) n.rows = j.at("rows").get<std::vector<std::int64_t>>();
      if (j.contains("cols")) n.cols = j.at("cols").get<std::vector<std::int64_t>>();
      if (j.contains("block")) n.block = j.at("block").get<int>();
      if (j.contains("mode")) n.crd = j.at("mode").get<std::string>() == "CRD";
      net.nodes.push_back(std::move(n));
    }
    for (const json& g : doc.at("gemm_layers")) {
      SpmLayer l;
      l.name = g.at("name").get<std::string>();
      l.index = static_cast<int>(net.gemm_layers.size());
      l.geom.in_channels = g.at("in_features").get<int>();
      l.geom.out_channels = g.at("out_features").get<int>();
      if (l.geom.in_channels < 1 || l.geom.out_channels < 1 || l.geom.in_channels > (1 << 24) ||
          l.geom.out_channels > (1 << 24))
        throw Error(jpath, "gemm '" + l.name + "': bad feature counts");
      l.geom.in_h = l.geom.in_w = 1;
      l.geom.kernel_h = l.geom.kernel_w = 1;
      l.pattern_pruned = false;
      l.n = 1;
      const std::uint64_t offset = g.at("weights").at("offset").get<std::uint64_t>();
      const std::uint64_t size = g.at("weights").at("size").get<std::uint64_t>();
      if (size != static_cast<std::uint64_t>(l.geom.weight_count()) || offset > bin_size ||
          size > bin_size - offset)
        throw Error(bpath, "gemm '" + l.name + "': weights lie outside the file");
      if (net.gemm_weights_read)
        l.nonzeros.assign(reinterpret_cast<const std::int8_t*>(bin.data()) + offset,
                          reinterpret_cast<const std::int8_t*>(bin.data()) + offset + size);
      l.weight_scale = g.at("weight_scale").get<std::vector<float>>();
      for (std::size_t i = 0; i < l.weight_scale.size(); ++i)
        if (!(l.weight_scale[i] > 0.0f) || !std::isfinite(l.weight_scale[i]))
          throw Error(jpath, "gemm '" + l.name + "': weight_scale[" + std::to_string(i) +
                                 "] is not a positive finite number");
      l.input_scale = g.at("input_scale").get<float>();
      l.output_scale = g.at("output_scale").get<float>();
      l.bias = g.at("bias").get<std::vector<std::int32_t>>();
      const auto mult = g.at("requant_multiplier").get<std::vector<std::int32_t>>();
      const auto shift = g.at("requant_shift").get<std::vector<std::int32_t>>();
      if (mult.size() != shift.size()) throw Error(jpath, "gemm '" + l.name + "': requantisation");
      for (std::size_t i = 0; i < mult.size(); ++i) l.requant.push_back(Requant{mult[i], shift[i]});
      net.gemm_layers.push_back(std::move(l));
    }
  } catch (const json::exception& e) {
    throw Error(jpath, std::string("malformed: ") + e.what());
  }
  net.validate(conv_layers, jpath);
  return net;
}

}  // namespace pcnn
