// The post-processing unit's plain C++ parts: its arithmetic against the
// golden int8 operators on random operators (seeded, printed), its step plan
// (every input byte fetched once and before any output that reads it), its
// register image, and the descriptors it refuses.
#include <catch2/catch.hpp>

#include <cstring>

#include "models/post_process/post_op.hpp"
#include "models/post_process/post_op_arithmetic.hpp"
#include "models/post_process/post_op_plan.hpp"
#include "models/post_process/post_op_registers.hpp"
#include "pcnn/core/error.hpp"
#include "post_process_test_support.hpp"

using pcnn::Int8Op;
using pcnn::PostOp;

namespace {

std::uint64_t test_seed() { return Catch::rngSeed() != 0 ? Catch::rngSeed() : 7u; }

}  // namespace

TEST_CASE("post-processing arithmetic equals the golden int8 operators", "[post_process]") {
  const std::uint64_t seed = test_seed();
  INFO("seed " << seed << " (rerun with --rng-seed " << seed << ")");
  std::mt19937_64 rng(seed);
  const pcnn::PostProcessConfig cfg;
  for (Int8Op op : pcnn_test::post_process_ops())
    for (int trial = 0; trial < 150; ++trial) {
      const pcnn_test::RandomPostOp r = pcnn_test::random_post_op(rng, op);
      INFO(pcnn::to_string(op) << " trial " << trial);
      const pcnn::PostOpDescriptor d = r.descriptor();
      REQUIRE_NOTHROW(pcnn::validate_post_op(d, cfg));
      const std::vector<std::int8_t> got = pcnn::PostOpArithmetic(d).run(r.stored_inputs());
      REQUIRE(got == r.stored_golden());
    }
}

TEST_CASE("post-processing arithmetic on hand-computed cases", "[post_process]") {
  pcnn::PostOpDescriptor d;
  d.op = PostOp::average_pool;
  d.inputs = {{0, 1, 2, 2}};
  d.output = {0, 1, 1, 1};
  d.kernel_h = d.kernel_w = 2;
  // (-128 - 127 + 1 - 1) / 4 = -63.75 -> -64; 5/4 -> 1; -5/2 = -2.5 -> -2 (half up)
  CHECK(pcnn::PostOpArithmetic(d).run({{-128, -127, 1, -1}}) == std::vector<std::int8_t>{-64});
  CHECK(pcnn::PostOpArithmetic(d).run({{2, 1, 1, 1}}) == std::vector<std::int8_t>{1});
  d.inputs = {{0, 1, 1, 2}};
  d.kernel_h = 1;
  d.op = PostOp::average_pool;
  CHECK(pcnn::PostOpArithmetic(d).run({{-3, -2}}) == std::vector<std::int8_t>{-2});
  // add: (x * 2^30 + y * 2^29 + 2^30) >> 31 = x/2 + y/4 rounded half up, clamped.
  pcnn::PostOpDescriptor a;
  a.op = PostOp::add;
  a.inputs = {{0, 1, 1, 3}, {0, 1, 1, 3}};
  a.output = {0, 1, 1, 3};
  a.multipliers = {std::int64_t{1} << 30, std::int64_t{1} << 29};
  a.shift = 31;
  CHECK(pcnn::PostOpArithmetic(a).run({{-128, 127, 3}, {-128, 127, -2}}) ==
        std::vector<std::int8_t>{-96, 95, 1});
}

TEST_CASE("post-processing plan fetches every input byte once and before it is used",
          "[post_process]") {
  const std::uint64_t seed = test_seed();
  INFO("seed " << seed << " (rerun with --rng-seed " << seed << ")");
  std::mt19937_64 rng(seed);
  int planned = 0;
  for (Int8Op op : pcnn_test::post_process_ops())
    for (int trial = 0; trial < 120; ++trial) {
      const pcnn_test::RandomPostOp r = pcnn_test::random_post_op(rng, op);
      pcnn::PostProcessConfig cfg;
      cfg.line_buffer_bytes = std::vector<int>{64, 96, 200, 16384}[trial % 4];
      cfg.lanes = pcnn_test::uniform(rng, 1, 20);
      const pcnn::PostOpDescriptor d = r.descriptor();
      try {
        pcnn::validate_post_op(d, cfg);
      } catch (const pcnn::Error&) {
        continue;  // the window does not fit this small line buffer
      }
      ++planned;
      INFO(pcnn::to_string(op) << " trial " << trial << " line buffer " << cfg.line_buffer_bytes);
      // Inputs as the unit sees them: only what the steps so far fetched.
      const std::vector<std::vector<std::int8_t>> stored = r.stored_inputs();
      std::vector<std::vector<std::int8_t>> seen;
      std::vector<std::vector<int>> fetched;
      std::vector<const std::int8_t*> in;
      for (const auto& v : r.inputs) {
        seen.emplace_back(v.size(), 0);
        fetched.emplace_back(v.size(), 0);
      }
      for (const auto& v : seen) in.push_back(v.data());
      std::vector<std::int8_t> out(static_cast<std::size_t>(d.output.bytes()), 0);
      std::vector<int> written(out.size(), 0);
      const pcnn::PostOpArithmetic arithmetic(d);
      std::int64_t cycles = 0;
      for (const pcnn::PostStep& s : pcnn::plan_post_op(d, cfg)) {
        for (const pcnn::PostByteRange& b : s.reads)
          for (std::int64_t i = b.offset; i < b.offset + b.bytes; ++i) {
            const auto k = static_cast<std::size_t>(b.input);
            ++fetched[k][static_cast<std::size_t>(i)];
            seen[k][static_cast<std::size_t>(i)] = stored[k][static_cast<std::size_t>(i)];
          }
        for (const pcnn::PostByteRange& w : s.writes) {
          CHECK(w.input == -1);
          arithmetic.compute(in, w.offset, w.offset + w.bytes, out.data());
          for (std::int64_t i = w.offset; i < w.offset + w.bytes; ++i)
            ++written[static_cast<std::size_t>(i)];
        }
        cycles += s.compute_cycles;
      }
      for (const auto& f : fetched)
        CHECK(std::count(f.begin(), f.end(), 1) == static_cast<long>(f.size()));
      CHECK(std::count(written.begin(), written.end(), 1) == static_cast<long>(written.size()));
      REQUIRE(out == r.stored_golden());
      CHECK(cycles >= pcnn::ceil_div(d.output.bytes(), cfg.lanes));
    }
  CHECK(planned > 800);
}

TEST_CASE("post-processing plan cycles on hand-computed cases", "[post_process]") {
  pcnn::PostProcessConfig cfg;
  cfg.lanes = 16;  // and the default 32 KiB half line buffer
  pcnn::PostOpDescriptor d;
  d.op = PostOp::max_pool;
  d.inputs = {{0, 2, 4, 4}};
  d.output = {100, 2, 2, 2};
  d.kernel_h = d.kernel_w = d.stride_h = d.stride_w = 2;
  pcnn::validate_post_op(d, cfg);
  // One band over both channels: 2 output rows * ceil(2 pixels * 2 channels / 16) * 4 taps.
  auto steps = pcnn::plan_post_op(d, cfg);
  REQUIRE(steps.size() == 1);
  CHECK(steps[0].compute_cycles == 8);
  CHECK(steps[0].element_ops == 32);
  REQUIRE(steps[0].reads.size() == 1);
  CHECK(steps[0].reads[0].bytes == 32);
  REQUIRE(steps[0].writes.size() == 1);
  CHECK(steps[0].writes[0].bytes == 8);
  // The same pool on [4,8,8] with a 64-byte line buffer: a window's 2 rows of
  // 8 pixels fit 32 bytes for 2 channels, so two channel groups, one output row
  // per band, and every pixel's 2-channel slice its own transfer.
  cfg.line_buffer_bytes = 64;
  d.inputs = {{0, 4, 8, 8}};
  d.output = {0, 4, 4, 4};
  pcnn::validate_post_op(d, cfg);
  steps = pcnn::plan_post_op(d, cfg);
  REQUIRE(steps.size() == 8);
  REQUIRE(steps[0].reads.size() == 16);
  CHECK(steps[0].reads[1].offset == 4);
  CHECK(steps[0].reads[1].bytes == 2);
  CHECK(steps[4].reads[0].offset == 2);  // second group: channels 2 and 3
  CHECK(steps[0].compute_cycles == 4);   // ceil(4 pixels * 2 channels / 16) * 4 taps
  // A 3x3/1 pool on [1,40,40] with a 256-byte line buffer: bands of 128 bytes
  // = 3 input rows, i.e. one output row per band after the first.
  cfg.line_buffer_bytes = 256;
  d.inputs = {{0, 1, 40, 40}};
  d.output = {0, 1, 38, 38};
  d.kernel_h = d.kernel_w = 3;
  d.stride_h = d.stride_w = 1;
  pcnn::validate_post_op(d, cfg);
  steps = pcnn::plan_post_op(d, cfg);
  CHECK(steps.size() == 38);
  CHECK(steps[0].reads[0].bytes == 3 * 40);
  CHECK(steps[1].reads[0].bytes == 40);
  CHECK(steps[0].compute_cycles == 3 * 9);  // ceil(38/16) * 9 taps
  // Elementwise add of 10000 bytes each, 8 KiB half buffer: chunks of 4096 elements.
  pcnn::PostOpDescriptor a;
  a.op = PostOp::add;
  a.inputs = {{0, 1, 1, 10000}, {20000, 1, 1, 10000}};
  a.output = {40000, 1, 1, 10000};
  a.multipliers = {1, 1};
  cfg.line_buffer_bytes = 16384;
  steps = pcnn::plan_post_op(a, cfg);
  REQUIRE(steps.size() == 3);
  CHECK(steps[0].compute_cycles == 4096 / 16);
  CHECK(steps[2].writes[0].bytes == 10000 - 2 * 4096);
  // Global average pool of [64,7,7]: one run of all 49 pixels, 64 outputs at the end.
  pcnn::PostOpDescriptor g;
  g.op = PostOp::global_average_pool;
  g.inputs = {{0, 64, 7, 7}};
  g.output = {4096, 64, 1, 1};
  steps = pcnn::plan_post_op(g, cfg);
  REQUIRE(steps.size() == 1);
  CHECK(steps[0].compute_cycles == 64 * 49 / 16);
  CHECK(steps[0].writes[0].bytes == 64);
}

TEST_CASE("post-processing registers hold the descriptor", "[post_process]") {
  std::mt19937_64 rng(test_seed());
  for (Int8Op op : pcnn_test::post_process_ops()) {
    const pcnn::PostOpDescriptor d = pcnn_test::random_post_op(rng, op).descriptor(0x123456789ull);
    std::vector<std::uint8_t> regs(pcnn::PostRegisters::kSize, 0);
    const auto writes = pcnn::post_op_register_writes(d);
    REQUIRE(writes.back().address == pcnn::PostRegisters::kControl);
    for (const auto& w : writes) {
      REQUIRE(w.address + w.bytes.size() <= regs.size());
      std::memcpy(&regs[w.address], w.bytes.data(), w.bytes.size());
    }
    const pcnn::PostOpDescriptor back = pcnn::decode_post_op_registers(regs.data());
    CHECK(back.op == d.op);
    REQUIRE(back.inputs.size() == d.inputs.size());
    for (std::size_t i = 0; i < d.inputs.size(); ++i) {
      CHECK(back.inputs[i].address == d.inputs[i].address);
      CHECK(back.inputs[i].channels == d.inputs[i].channels);
      CHECK(back.inputs[i].height == d.inputs[i].height);
      CHECK(back.inputs[i].width == d.inputs[i].width);
    }
    CHECK(back.output.address == d.output.address);
    CHECK(back.output.bytes() == d.output.bytes());
    CHECK(back.multipliers == d.multipliers);
    CHECK(back.shift == d.shift);
    CHECK(back.lo == d.lo);
    CHECK(back.hi == d.hi);
    CHECK(back.rows == d.rows);
    CHECK(back.cols == d.cols);
    CHECK(back.block == d.block);
    CHECK(back.crd == d.crd);
    CHECK(back.count_include_pad == d.count_include_pad);
    CHECK((back.kernel_h == d.kernel_h && back.stride_w == d.stride_w &&
           back.dilation_h == d.dilation_h && back.pad_right == d.pad_right));
  }
}

TEST_CASE("post-processing descriptors that do not fit are refused", "[post_process]") {
  const pcnn::PostProcessConfig cfg;
  pcnn::PostOpDescriptor d;
  d.op = PostOp::max_pool;
  d.inputs = {{0, 1, 8, 8}};
  d.output = {0, 1, 4, 4};
  d.kernel_h = d.kernel_w = d.stride_h = d.stride_w = 2;
  REQUIRE_NOTHROW(pcnn::validate_post_op(d, cfg));
  auto refused = [&](pcnn::PostOpDescriptor bad, const std::string& text) {
    INFO(text);
    CHECK_THROWS_WITH(pcnn::validate_post_op(bad, cfg), Catch::Contains(text));
  };
  auto b = d;
  b.output.height = 9;
  refused(b, "does not fit the window");
  b = d;
  b.inputs = {{0, 1, 8, 20000}};
  b.output = {0, 1, 4, 10000};
  refused(b, "exceed half the line buffer");
  b = d;
  b.inputs.push_back(d.inputs[0]);
  refused(b, "has 2 inputs");
  b = d;
  b.op = PostOp::clip;
  b.lo = 5;
  b.hi = 4;
  refused(b, "bounds 5..4");
  b = d;
  b.op = PostOp::rescale;
  b.output = d.inputs[0];
  b.multipliers = {-1};
  refused(b, "multiplier -1");
  b.multipliers = {1};
  b.shift = 63;
  refused(b, "shift 63");
  b = d;
  b.op = PostOp::resize_nearest;
  b.output = {0, 1, 2, 2};
  b.rows = {3, 1};
  b.cols = {0, 7};
  refused(b, "non-decreasing");
  b.rows = {1, 3};
  b.cols = {0, 8};
  refused(b, "column index 8");
  b = d;
  b.op = PostOp::depth_to_space;
  b.block = 2;
  b.inputs = {{0, 3, 2, 2}};
  refused(b, "does not fit block 2");
  b.inputs = {{0, 4, 1, 10000}};
  b.output = {0, 1, 2, 20000};
  refused(b, "an input row of 40000 bytes exceeds half the line buffer");
  b = d;
  b.op = static_cast<PostOp>(99);
  refused(b, "unknown op code 99");

  pcnn::NetNode conv;
  conv.op = Int8Op::conv;
  conv.name = "c1";
  conv.inputs = {0};
  CHECK_THROWS_WITH(pcnn::make_post_op(conv, {}, {0}, 0),
                    Catch::Contains("node 'c1' (conv): is not a post-processing operator"));
  CHECK_FALSE(pcnn::runs_on_post_process_unit(Int8Op::reshape));
  CHECK(pcnn::runs_on_post_process_unit(Int8Op::relu));
  pcnn::PostProcessConfig bad_cfg;
  bad_cfg.lanes = 0;
  CHECK_THROWS_WITH(bad_cfg.validate(), Catch::Contains("lanes: must be in 1..4096"));
}
