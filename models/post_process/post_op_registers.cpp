#include "models/post_process/post_op_registers.hpp"

namespace pcnn {
namespace {

void put32(std::vector<std::uint8_t>& b, std::uint32_t v) {
  for (int i = 0; i < 4; ++i) b.push_back(static_cast<std::uint8_t>(v >> (8 * i)));
}
void put64(std::vector<std::uint8_t>& b, std::uint64_t v) {
  put32(b, static_cast<std::uint32_t>(v));
  put32(b, static_cast<std::uint32_t>(v >> 32));
}
std::uint32_t get32(const std::uint8_t* r, std::uint64_t address) {
  std::uint32_t v = 0;
  for (int i = 0; i < 4; ++i) v |= std::uint32_t{r[address + i]} << (8 * i);
  return v;
}
std::uint64_t get64(const std::uint8_t* r, std::uint64_t address) {
  return get32(r, address) | std::uint64_t{get32(r, address + 4)} << 32;
}
void put_tensor(std::vector<std::uint8_t>& b, const PostTensor& t) {
  put64(b, t.address);
  put32(b, static_cast<std::uint32_t>(t.channels));
  put32(b, static_cast<std::uint32_t>(t.height));
  put32(b, static_cast<std::uint32_t>(t.width));
}
PostTensor get_tensor(const std::uint8_t* r, std::uint64_t address) {
  PostTensor t;
  t.address = get64(r, address);
  t.channels = get32(r, address + 8);
  t.height = get32(r, address + 12);
  t.width = get32(r, address + 16);
  return t;
}

}  // namespace

std::vector<PostRegisterWrite> post_op_register_writes(const PostOpDescriptor& d) {
  std::vector<PostRegisterWrite> writes;
  PostRegisterWrite header{PostRegisters::kHeader, {}};
  auto& h = header.bytes;
  put32(h, static_cast<std::uint32_t>(d.op));
  put32(h, static_cast<std::uint32_t>(d.inputs.size()));
  for (int v : {d.kernel_h, d.kernel_w, d.stride_h, d.stride_w, d.dilation_h, d.dilation_w,
                d.pad_top, d.pad_left, d.pad_bottom, d.pad_right})
    put32(h, static_cast<std::uint32_t>(v));
  put32(h, (d.count_include_pad ? 1u : 0u) | (d.crd ? 2u : 0u));
  for (int v : {d.shift, d.lo, d.hi, d.block}) put32(h, static_cast<std::uint32_t>(v));
  put32(h, static_cast<std::uint32_t>(d.rows.size()));
  put32(h, static_cast<std::uint32_t>(d.cols.size()));
  writes.push_back(std::move(header));
  PostRegisterWrite output{PostRegisters::kOutput, {}};
  put_tensor(output.bytes, d.output);
  writes.push_back(std::move(output));
  for (std::size_t i = 0; i < d.inputs.size(); ++i) {
    PostRegisterWrite in{PostRegisters::kInputs + i * PostRegisters::kInputStride, {}};
    put_tensor(in.bytes, d.inputs[i]);
    put64(in.bytes, i < d.multipliers.size() ? static_cast<std::uint64_t>(d.multipliers[i]) : 0);
    writes.push_back(std::move(in));
  }
  if (!d.rows.empty()) {
    PostRegisterWrite rows{PostRegisters::kRowTable, {}};
    for (auto r : d.rows) put32(rows.bytes, static_cast<std::uint32_t>(r));
    writes.push_back(std::move(rows));
  }
  if (!d.cols.empty()) {
    PostRegisterWrite cols{PostRegisters::kColTable, {}};
    for (auto c : d.cols) put32(cols.bytes, static_cast<std::uint32_t>(c));
    writes.push_back(std::move(cols));
  }
  PostRegisterWrite start{PostRegisters::kControl, {}};
  put32(start.bytes, 1);
  writes.push_back(std::move(start));
  return writes;
}

PostOpDescriptor decode_post_op_registers(const std::uint8_t* r) {
  PostOpDescriptor d;
  std::uint64_t a = PostRegisters::kHeader;
  auto next = [&]() {
    const std::uint32_t v = get32(r, a);
    a += 4;
    return v;
  };
  auto next_int = [&]() { return static_cast<int>(static_cast<std::int32_t>(next())); };
  d.op = static_cast<PostOp>(next());
  const std::uint32_t inputs = next();
  for (int* v : {&d.kernel_h, &d.kernel_w, &d.stride_h, &d.stride_w, &d.dilation_h, &d.dilation_w,
                 &d.pad_top, &d.pad_left, &d.pad_bottom, &d.pad_right})
    *v = next_int();
  const std::uint32_t flags = next();
  d.count_include_pad = (flags & 1u) != 0;
  d.crd = (flags & 2u) != 0;
  for (int* v : {&d.shift, &d.lo, &d.hi, &d.block}) *v = next_int();
  const std::uint32_t rows = next(), cols = next();
  d.output = get_tensor(r, PostRegisters::kOutput);
  // Counts beyond the register file are kept out of range so validation refuses them.
  const std::uint32_t max_inputs = PostOpDescriptor::kMaxInputs;
  for (std::uint32_t i = 0; i < std::min(inputs, max_inputs + 1); ++i) {
    const std::uint64_t base =
        PostRegisters::kInputs + std::min(i, max_inputs - 1) * PostRegisters::kInputStride;
    d.inputs.push_back(get_tensor(r, base));
    d.multipliers.push_back(static_cast<std::int64_t>(get64(r, base + 20)));
  }
  const bool rescales = d.op == PostOp::rescale || d.op == PostOp::add || d.op == PostOp::concat;
  if (!rescales) d.multipliers.clear();
  const std::uint32_t table = PostOpDescriptor::kMaxTableEntries;
  for (std::uint32_t i = 0; i < std::min(rows, table + 1); ++i)
    d.rows.push_back(
        static_cast<std::int32_t>(get32(r, PostRegisters::kRowTable + 4 * std::min(i, table - 1))));
  for (std::uint32_t i = 0; i < std::min(cols, table + 1); ++i)
    d.cols.push_back(
        static_cast<std::int32_t>(get32(r, PostRegisters::kColTable + 4 * std::min(i, table - 1))));
  return d;
}

}  // namespace pcnn
