// Golden reference convolution, requantisation and the random layer generators.
#include <catch2/catch.hpp>

#include <cstdint>
#include <iostream>
#include <random>
#include <set>
#include <vector>

#include "pcnn/core/error.hpp"
#include "pcnn/golden/golden_conv.hpp"
#include "pcnn/golden/random_layer.hpp"

namespace {

using pcnn::ConvGeometry;
using pcnn::Requant;

// Seed from Catch's --rng-seed (ctest passes "time"); a fixed default otherwise.
std::uint64_t test_seed(const char* test_name) {
  const std::uint64_t seed = Catch::rngSeed() != 0 ? Catch::rngSeed() : 20201u;
  std::cout << test_name << ": seed " << seed << " (rerun with --rng-seed " << seed << ")\n";
  return seed;
}

ConvGeometry geometry(int c, int m, int h, int w, int k, int stride, int pad) {
  ConvGeometry g;
  g.in_channels = c;
  g.out_channels = m;
  g.in_h = h;
  g.in_w = w;
  g.kernel_h = g.kernel_w = k;
  g.stride_h = g.stride_w = stride;
  g.pad_top = g.pad_left = g.pad_bottom = g.pad_right = pad;
  return g;
}

// Second formulation for cross-checking: im2col per group, then a matrix product.
std::vector<std::int64_t> im2col_conv(const ConvGeometry& g, const std::vector<std::int8_t>& wts,
                                      const std::vector<std::int32_t>& bias,
                                      const std::vector<std::int8_t>& x) {
  const int oh = g.out_h(), ow = g.out_w(), cg = g.in_channels / g.group;
  const int mg = g.out_channels / g.group, kk = g.kernel_h * g.kernel_w;
  const int rows = cg * kk, cols = oh * ow;
  std::vector<std::int64_t> out(static_cast<std::size_t>(g.out_channels) * cols);
  for (int grp = 0; grp < g.group; ++grp) {
    std::vector<std::int64_t> col(static_cast<std::size_t>(rows) * cols, 0);
    for (int r = 0; r < rows; ++r) {
      const int c = grp * cg + r / kk, ky = (r % kk) / g.kernel_w, kx = r % g.kernel_w;
      for (int p = 0; p < cols; ++p) {
        const int y = (p / ow) * g.stride_h + ky * g.dilation_h - g.pad_top;
        const int xx = (p % ow) * g.stride_w + kx * g.dilation_w - g.pad_left;
        if (y >= 0 && y < g.in_h && xx >= 0 && xx < g.in_w)
          col[static_cast<std::size_t>(r) * cols + p] = x[(c * g.in_h + y) * g.in_w + xx];
      }
    }
    for (int mi = 0; mi < mg; ++mi) {
      const int m = grp * mg + mi;
      for (int p = 0; p < cols; ++p) {
        std::int64_t s = bias[m];
        for (int r = 0; r < rows; ++r)
          s += wts[static_cast<std::size_t>(m) * rows + r] * col[static_cast<std::size_t>(r) * cols + p];
        out[static_cast<std::size_t>(m) * cols + p] = s;
      }
    }
  }
  return out;
}

}  // namespace

TEST_CASE("golden conv: 1x1 input with padding sees only the kernel centre", "[golden]") {
  const ConvGeometry g = geometry(1, 1, 1, 1, 3, 1, 1);
  const std::vector<std::int8_t> w = {1, 2, 3, 4, 5, 6, 7, 8, 9};
  const auto acc = pcnn::golden_conv_accumulators(g, w, {3}, {5});
  REQUIRE(acc == std::vector<std::int32_t>{3 + 5 * 5});
}

TEST_CASE("golden conv: 3x3 input, stride 2, padding 1", "[golden]") {
  const ConvGeometry g = geometry(1, 1, 3, 3, 3, 2, 1);
  const std::vector<std::int8_t> x = {1, 2, 3, 4, 5, 6, 7, 8, 9};
  // All-ones kernel plus 10 at the top-left tap, which only output (1,1) sees inside.
  const std::vector<std::int8_t> w = {11, 1, 1, 1, 1, 1, 1, 1, 1};
  const auto acc = pcnn::golden_conv_accumulators(g, w, {0}, x);
  // Windows: (0,0) -> 1+2+4+5, (0,1) -> 2+3+5+6, (1,0) -> 4+5+7+8, (1,1) -> 5+6+8+9 + 10*5.
  REQUIRE(acc == std::vector<std::int32_t>{12, 16, 24, 78});
}

TEST_CASE("golden conv: two groups use their own input channels", "[golden]") {
  ConvGeometry g = geometry(2, 4, 1, 1, 1, 1, 0);
  g.group = 2;
  const auto acc = pcnn::golden_conv_accumulators(g, {1, 2, 3, 4}, {0, 10, 20, 30}, {3, 5});
  // Channels 0,1 read input 0 (= 3); channels 2,3 read input 1 (= 5).
  REQUIRE(acc == std::vector<std::int32_t>{3, 16, 35, 50});
}

TEST_CASE("golden conv: dilation 2", "[golden]") {
  ConvGeometry g = geometry(1, 1, 5, 5, 3, 1, 0);
  g.dilation_h = g.dilation_w = 2;
  std::vector<std::int8_t> x(25);
  for (int i = 0; i < 25; ++i) x[i] = static_cast<std::int8_t>(i + 1);
  const std::vector<std::int8_t> w = {1, 2, 3, 4, 5, 6, 7, 8, 9};
  const auto acc = pcnn::golden_conv_accumulators(g, w, {0}, x);
  // Taps at rows/cols 0, 2, 4: 1*1 + 2*3 + 3*5 + 4*11 + 5*13 + 6*15 + 7*21 + 8*23 + 9*25.
  REQUIRE(acc == std::vector<std::int32_t>{777});
}

TEST_CASE("golden conv: size mismatches throw", "[golden]") {
  const ConvGeometry g = geometry(2, 1, 3, 3, 3, 1, 1);
  const std::vector<std::int8_t> w(18, 1), x(18, 1);
  CHECK_NOTHROW(pcnn::golden_conv_accumulators(g, w, {0}, x));
  CHECK_THROWS_AS(pcnn::golden_conv_accumulators(g, w, {0}, std::vector<std::int8_t>(17)),
                  pcnn::Error);
  CHECK_THROWS_AS(pcnn::golden_conv_accumulators(g, std::vector<std::int8_t>(9), {0}, x),
                  pcnn::Error);
  CHECK_THROWS_AS(pcnn::golden_conv_accumulators(g, w, {0, 0}, x), pcnn::Error);
  ConvGeometry tiny = geometry(1, 1, 2, 2, 3, 2, 0);  // kernel larger than the input
  CHECK_THROWS_AS(pcnn::golden_conv_accumulators(tiny, std::vector<std::int8_t>(9), {0},
                                                 std::vector<std::int8_t>(4)),
                  pcnn::Error);
}

TEST_CASE("golden conv: accumulator leaving int32 throws", "[golden]") {
  const ConvGeometry g = geometry(1, 1, 1, 1, 1, 1, 0);
  CHECK(pcnn::golden_conv_accumulators(g, {-128}, {INT32_MAX}, {127}) ==
        std::vector<std::int32_t>{INT32_MAX - 128 * 127});
  CHECK_THROWS_AS(pcnn::golden_conv_accumulators(g, {127}, {INT32_MAX}, {1}), pcnn::Error);
  CHECK_THROWS_AS(pcnn::golden_conv_accumulators(g, {127}, {INT32_MIN}, {-1}), pcnn::Error);
}

TEST_CASE("golden requantise: ties round towards +infinity for both signs", "[golden]") {
  const Requant half{1 << 30, 0};  // y = acc / 2
  CHECK(pcnn::golden_requantize(1, half, false) == 1);    // 0.5 -> 1
  CHECK(pcnn::golden_requantize(-1, half, false) == 0);   // -0.5 -> 0
  CHECK(pcnn::golden_requantize(3, half, false) == 2);    // 1.5 -> 2
  CHECK(pcnn::golden_requantize(-3, half, false) == -1);  // -1.5 -> -1
  CHECK(pcnn::golden_requantize(-5, half, false) == -2);  // -2.5 -> -2
  CHECK(pcnn::golden_requantize(4, half, false) == 2);
  CHECK(pcnn::golden_requantize(-4, half, false) == -2);
  const Requant three_eighths{3 << 29, 1};  // 1.5 * 2^30 / 2^32 = 0.375
  CHECK(pcnn::golden_requantize(4, three_eighths, false) == 2);    // 1.5 -> 2
  CHECK(pcnn::golden_requantize(-4, three_eighths, false) == -1);  // -1.5 -> -1
  CHECK(pcnn::golden_requantize(5, three_eighths, false) == 2);    // 1.875 -> 2
  CHECK(pcnn::golden_requantize(-5, three_eighths, false) == -2);  // -1.875 -> -2
  CHECK(pcnn::golden_requantize(3, three_eighths, false) == 1);    // 1.125 -> 1
  CHECK(pcnn::golden_requantize(-3, three_eighths, false) == -1);  // -1.125 -> -1
}

TEST_CASE("golden requantise: saturation, relu and negative shift", "[golden]") {
  const Requant half{1 << 30, 0};
  CHECK(pcnn::golden_requantize(254, half, false) == 127);
  CHECK(pcnn::golden_requantize(255, half, false) == 127);  // 127.5 -> 128 -> 127
  CHECK(pcnn::golden_requantize(-256, half, false) == -128);
  CHECK(pcnn::golden_requantize(-257, half, false) == -128);  // -128.5 -> -128
  CHECK(pcnn::golden_requantize(-258, half, false) == -128);  // -129 -> -128
  CHECK(pcnn::golden_requantize(INT32_MAX, half, false) == 127);
  CHECK(pcnn::golden_requantize(INT32_MIN, half, false) == -128);
  CHECK(pcnn::golden_requantize(-1, half, true) == 0);
  CHECK(pcnn::golden_requantize(-200, half, true) == 0);
  CHECK(pcnn::golden_requantize(100, half, true) == 50);
  CHECK(pcnn::golden_requantize(1000, half, true) == 127);
  const Requant twice{1 << 30, -2};  // 2^30 / 2^29 = 2
  CHECK(pcnn::golden_requantize(10, twice, false) == 20);
  CHECK(pcnn::golden_requantize(-64, twice, false) == -128);
  CHECK(pcnn::golden_requantize(-70, twice, false) == -128);
  CHECK(pcnn::golden_requantize(64, twice, false) == 127);
  const Requant most{INT32_MAX, -31};  // no division at all
  CHECK(pcnn::golden_requantize(0, most, false) == 0);
  CHECK(pcnn::golden_requantize(1, most, false) == 127);
  CHECK(pcnn::golden_requantize(-1, most, false) == -128);
  CHECK(pcnn::golden_requantize(INT32_MIN, most, false) == -128);
  const Requant least{INT32_MAX, 31};  // (2^31 - 1) / 2^62, just below 2^-31
  CHECK(pcnn::golden_requantize(INT32_MAX, least, false) == 1);   // 0.99999... -> 1
  CHECK(pcnn::golden_requantize(INT32_MIN, least, false) == -1);  // -0.99999... -> -1
  CHECK(pcnn::golden_requantize(INT32_MAX / 2, least, false) == 0);
  CHECK(pcnn::golden_requantize(INT32_MIN / 2, least, false) == 0);  // -0.49999... -> 0
  CHECK_THROWS_AS(pcnn::golden_requantize(1, Requant{1 << 30, 32}, false), pcnn::Error);
  CHECK_THROWS_AS(pcnn::golden_requantize(1, Requant{1 << 30, -32}, false), pcnn::Error);
}

TEST_CASE("golden conv agrees with an im2col formulation on random shapes", "[golden]") {
  std::mt19937_64 rng(test_seed("golden vs im2col"));
  for (int t = 0; t < 200; ++t) {
    ConvGeometry g = pcnn::random_layer_spec(rng).geom;
    // Widen the shapes beyond the pattern datapath: groups, dilation, other kernels.
    if (pcnn::uniform_below(rng, 4) == 0) {
      g.group = static_cast<int>(pcnn::uniform_int(rng, 1, 4));
      g.in_channels = g.group * static_cast<int>(pcnn::uniform_int(rng, 1, 8));
      g.out_channels = g.group * static_cast<int>(pcnn::uniform_int(rng, 1, 8));
    }
    if (pcnn::uniform_below(rng, 4) == 0) g.dilation_h = g.dilation_w = 2;
    if (pcnn::uniform_below(rng, 5) == 0) g.kernel_h = g.kernel_w = 1;
    if (pcnn::uniform_below(rng, 5) == 0) g.kernel_w = 5;
    if (g.in_h + g.pad_top + g.pad_bottom < g.dilation_h * (g.kernel_h - 1) + 1 ||
        g.in_w + g.pad_left + g.pad_right < g.dilation_w * (g.kernel_w - 1) + 1)
      continue;  // no output for this shape
    INFO("trial " << t << ": C=" << g.in_channels << " M=" << g.out_channels << " H=" << g.in_h
                  << " W=" << g.in_w << " k=" << g.kernel_h << "x" << g.kernel_w
                  << " group=" << g.group << " dilation=" << g.dilation_h);
    std::vector<std::int8_t> w(static_cast<std::size_t>(g.weight_count()));
    for (auto& v : w) v = static_cast<std::int8_t>(pcnn::uniform_int(rng, -128, 127));
    std::vector<std::int32_t> bias(static_cast<std::size_t>(g.out_channels));
    for (auto& b : bias) b = static_cast<std::int32_t>(pcnn::uniform_int(rng, -100000, 100000));
    const auto x = pcnn::random_activations(g.input_elements(), 0.7, false, rng);
    const auto golden = pcnn::golden_conv_accumulators(g, w, bias, x);
    const auto ref = im2col_conv(g, w, bias, x);
    REQUIRE(golden.size() == ref.size());
    REQUIRE(std::vector<std::int64_t>(golden.begin(), golden.end()) == ref);
  }
}

TEST_CASE("random layers are valid and their outputs spread over int8", "[golden]") {
  std::mt19937_64 rng(test_seed("random layer validity"));
  std::int64_t outputs = 0, saturated = 0, zeros = 0;
  for (int t = 0; t < 1000; ++t) {
    pcnn::RandomLayerSpec spec = pcnn::random_layer_spec(rng);
    spec.index = t;
    const ConvGeometry& g = spec.geom;
    INFO("spec " << t << ": C=" << g.in_channels << " M=" << g.out_channels << " H=" << g.in_h
                 << " W=" << g.in_w << " n=" << spec.n << " V=" << spec.num_patterns);
    REQUIRE(g.out_h() >= 1);
    REQUIRE(g.out_w() >= 1);
    const pcnn::SpmLayer layer = pcnn::make_random_layer(spec, rng);
    REQUIRE_NOTHROW(layer.validate());
    CHECK(layer.name == "rand" + std::to_string(t));
    REQUIRE(layer.num_patterns() == spec.num_patterns);
    std::set<std::uint16_t> distinct(layer.patterns.begin(), layer.patterns.end());
    REQUIRE(distinct.size() == layer.patterns.size());
    for (std::uint16_t m : layer.patterns) REQUIRE(__builtin_popcount(m) == spec.n);
    const auto x = pcnn::random_activations(g.input_elements(), 0.5, spec.relu, rng);
    const auto y = pcnn::golden_conv_layer(layer, x);
    std::int64_t sat = 0;
    for (std::int8_t v : y) {
      sat += (v == 127 || v == -128);
      zeros += (v == 0);
    }
    // A layer with few output channels has few independent kernels: with
    // non-negative inputs one channel's weight sum can push most of its outputs
    // to a rail, so the per-layer check needs several channels to be meaningful.
    if (y.size() >= 64 && g.out_channels >= 8)
      CHECK(sat * 2 < static_cast<std::int64_t>(y.size()));
    outputs += static_cast<std::int64_t>(y.size());
    saturated += sat;
  }
  std::cout << "random layers: " << outputs << " outputs, " << saturated << " saturated, "
            << zeros << " zero\n";
  CHECK(saturated * 20 < outputs);
  CHECK(zeros * 2 < outputs);
}

TEST_CASE("dense_equivalent places every non-zero at its mask position", "[golden]") {
  // A hand-made kernel: mask 0b100010101 (positions 0, 2, 4, 8), values 5, -7, 9, -128.
  pcnn::SpmLayer hand;
  hand.name = "hand";
  hand.geom.in_channels = hand.geom.out_channels = 1;
  hand.geom.in_h = hand.geom.in_w = 3;
  hand.n = 4;
  hand.patterns = {0b100010101, 0b000001111};
  hand.kernel_index = {0};
  hand.nonzeros = {5, -7, 9, -128};
  hand.bias = {0};
  hand.requant = {pcnn::Requant{}};
  hand.weight_scale = {1.0f};
  hand.validate();
  const pcnn::SpmLayer d = pcnn::dense_equivalent(hand);
  CHECK(d.n == 9);
  CHECK(!d.pattern_pruned);
  CHECK(d.nonzeros == std::vector<std::int8_t>{5, 0, -7, 0, 9, 0, 0, 0, -128});

  // Random layers: the dense values, expanded here bit by bit from the masks
  // and the stored non-zeros (not through dense_weights()).
  std::mt19937_64 rng(test_seed("dense equivalent"));
  for (int t = 0; t < 50; ++t) {
    const pcnn::RandomLayerSpec spec = pcnn::random_layer_spec(rng);
    const pcnn::SpmLayer layer = pcnn::make_random_layer(spec, rng);
    const pcnn::SpmLayer dense = pcnn::dense_equivalent(layer);
    const int K = layer.geom.kernel_size();
    REQUIRE(dense.n == K);
    std::vector<std::int8_t> expected;
    for (std::int64_t k = 0; k < layer.geom.kernel_count(); ++k) {
      const std::uint32_t mask =
          layer.pattern_pruned ? layer.patterns[layer.kernel_index[static_cast<std::size_t>(k)]]
                               : (1u << K) - 1;
      int j = 0;
      for (int p = 0; p < K; ++p)
        expected.push_back(((mask >> p) & 1u) ? layer.nonzeros[k * layer.n + j++] : 0);
    }
    REQUIRE(dense.nonzeros == expected);
  }
}

namespace {

// FNV-1a over every field a generator fills in.
struct Hasher {
  std::uint64_t h = 1469598103934665603ull;
  void add(std::uint64_t v) {
    for (int i = 0; i < 8; ++i) {
      h ^= (v >> (8 * i)) & 0xffu;
      h *= 1099511628211ull;
    }
  }
};

std::uint64_t generate_and_hash(std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  Hasher hs;
  for (int t = 0; t < 20; ++t) {
    const pcnn::RandomLayerSpec spec = pcnn::random_layer_spec(rng);
    const pcnn::SpmLayer l = pcnn::make_random_layer(spec, rng);
    const ConvGeometry& g = l.geom;
    for (int v : {g.in_channels, g.out_channels, g.in_h, g.in_w, g.stride_h, g.stride_w,
                  g.pad_top, g.pad_left, g.pad_bottom, g.pad_right, l.n, int(l.relu)})
      hs.add(static_cast<std::uint64_t>(v));
    for (auto v : l.patterns) hs.add(v);
    for (auto v : l.kernel_index) hs.add(v);
    for (auto v : l.nonzeros) hs.add(static_cast<std::uint64_t>(v));
    for (auto v : l.bias) hs.add(static_cast<std::uint64_t>(v));
    for (const auto& r : l.requant) {
      hs.add(static_cast<std::uint64_t>(r.multiplier));
      hs.add(static_cast<std::uint64_t>(r.shift));
    }
    for (auto v : pcnn::random_activations(g.input_elements(), 0.3, spec.relu, rng))
      hs.add(static_cast<std::uint64_t>(v));
  }
  return hs.h;
}

}  // namespace

TEST_CASE("random generators are deterministic for a seed", "[golden]") {
  const std::uint64_t seed = test_seed("generator determinism");
  CHECK(generate_and_hash(seed) == generate_and_hash(seed));
  CHECK(generate_and_hash(seed) != generate_and_hash(seed + 1));
}

TEST_CASE("random activations have the requested density and range", "[golden]") {
  std::mt19937_64 rng(test_seed("activation density"));
  for (double density : {0.0, 0.1, 0.5, 0.93, 1.0}) {
    for (bool non_negative : {false, true}) {
      const auto x = pcnn::random_activations(10001, density, non_negative, rng);
      std::int64_t nz = 0, neg = 0;
      for (std::int8_t v : x) {
        nz += (v != 0);
        neg += (v < 0);
        REQUIRE(v != -128);
      }
      CHECK(nz == std::llround(density * 10001));
      if (non_negative) CHECK(neg == 0);
      if (!non_negative && density >= 0.5) CHECK(neg > nz / 3);
    }
  }
  CHECK_THROWS_AS(pcnn::random_activations(10, 1.5, false, rng), pcnn::Error);
  CHECK_THROWS_AS(pcnn::random_activations(-1, 0.5, false, rng), pcnn::Error);
}

// The draws written out as defined (threshold 2^64 mod bound computed for every
// draw), as the generators drew them before their divisions were skipped.
namespace {

std::uint64_t reference_below(std::mt19937_64& rng, std::uint64_t bound) {
  const std::uint64_t reject_from = (0 - bound) % bound;
  for (;;) {
    const std::uint64_t x = rng();
    if (x >= reject_from) return x % bound;
  }
}

}  // namespace

TEST_CASE("uniform draws and random activations follow their definition draw for draw",
          "[golden]") {
  const std::uint64_t seed = test_seed("draws by definition");
  INFO("seed " << seed);
  // Bounds just above 2^63 reject about half of the draws, so the threshold
  // path is taken as often as the shortcut.
  for (const std::uint64_t bound :
       {std::uint64_t{1}, std::uint64_t{2}, std::uint64_t{7}, std::uint64_t{127},
        std::uint64_t{100003}, (std::uint64_t{1} << 63) + 1, (std::uint64_t{3} << 62) + 5,
        ~std::uint64_t{0}}) {
    INFO("bound " << bound);
    std::mt19937_64 a(seed), b(seed);
    bool same = true;
    for (int i = 0; i < 2000; ++i)
      same = same && pcnn::uniform_below(a, bound) == reference_below(b, bound);
    CHECK(same);
    CHECK(a() == b());  // as many draws taken
  }
  // random_activations: selection sampling, then a value in 1..127 and a sign.
  for (const double density : {0.0, 0.37, 1.0}) {
    for (const bool non_negative : {false, true}) {
      std::mt19937_64 a(seed), b(seed);
      const std::int64_t count = 5003;
      const std::vector<std::int8_t> got =
          pcnn::random_activations(count, density, non_negative, a);
      std::vector<std::int8_t> want(static_cast<std::size_t>(count), 0);
      std::int64_t wanted = std::llround(density * static_cast<double>(count));
      for (std::int64_t i = 0; i < count && wanted > 0; ++i) {
        if (reference_below(b, static_cast<std::uint64_t>(count - i)) >=
            static_cast<std::uint64_t>(wanted))
          continue;
        --wanted;
        const auto v = static_cast<int>(1 + reference_below(b, 127));
        const bool positive =
            non_negative || static_cast<double>(b() >> 11) * (1.0 / 9007199254740992.0) < 0.5;
        want[static_cast<std::size_t>(i)] = static_cast<std::int8_t>(positive ? v : -v);
      }
      CHECK(got == want);
      CHECK(a() == b());
    }
  }
}
