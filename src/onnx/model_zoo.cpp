// The zoo networks, written the way torchvision-style code defines them.
#include "pcnn/onnx/model_zoo.hpp"

#include "pcnn/core/error.hpp"

namespace pcnn {
namespace {

// VGG-16 feature extractor: 13 conv3x3 (pad 1) + BN + ReLU in five blocks, each
// closed by a 2x2 max pool. Convs carry a bias, as torchvision's vgg16_bn does.
std::string vgg16_features(ModelBuilder& b) {
  const int widths[5] = {64, 128, 256, 512, 512};
  const int depth[5] = {2, 2, 3, 3, 3};
  std::string x = b.input();
  for (int block = 0; block < 5; ++block) {
    for (int i = 0; i < depth[block]; ++i) {
      const std::string id = std::to_string(block + 1) + "_" + std::to_string(i + 1);
      ConvOptions opt;
      opt.bias = true;
      x = b.conv(x, widths[block], opt, "conv" + id);
      x = b.batch_norm(x, "bn" + id);
      x = b.relu(x, "relu" + id);
    }
    x = b.max_pool(x, 2, 2, 0, "pool" + std::to_string(block + 1));
  }
  return x;
}

ModelBuilder vgg16_cifar(std::uint64_t seed) {
  ModelBuilder b("vgg16-cifar", {1, 3, 32, 32}, seed);
  std::string x = vgg16_features(b);  // 512 x 1 x 1
  x = b.flatten(x, "flatten");
  x = b.gemm(x, 10, "fc");
  b.output(x);
  return b;
}

// torchvision's VGG-16 classifier (25088-4096-4096-1000, 124 M weights, ~470 MB).
ModelBuilder vgg16_imagenet_full(std::uint64_t seed) {
  ModelBuilder b("vgg16-imagenet-full", {1, 3, 224, 224}, seed);
  std::string x = vgg16_features(b);  // 512 x 7 x 7
  x = b.flatten(x, "flatten");
  x = b.gemm(x, 4096, "fc6");
  x = b.relu(x, "relu6");
  x = b.gemm(x, 4096, "fc7");
  x = b.relu(x, "relu7");
  x = b.gemm(x, 1000, "fc8");
  b.output(x);
  return b;
}

// The default ImageNet VGG-16: the 13 VGG-16 convolutions with a compact
// classifier (global average pooling + one 512x1000 Gemm), so the file is
// essentially the 14.7 M conv weights the pruner works on (docs/onnx-support.md).
ModelBuilder vgg16_imagenet(std::uint64_t seed) {
  ModelBuilder b("vgg16-imagenet", {1, 3, 224, 224}, seed);
  std::string x = vgg16_features(b);
  x = b.global_average_pool(x, "gap");
  x = b.flatten(x, "flatten");
  x = b.gemm(x, 1000, "fc");
  b.output(x);
  return b;
}

// ResNet BasicBlock: conv3x3(stride)-BN-ReLU-conv3x3-BN, plus the identity or a
// 1x1 conv (stride) + BN projection when the shape changes, then Add and ReLU.
std::string basic_block(ModelBuilder& b, const std::string& x, int in_ch, int out_ch, int stride,
                        const std::string& p) {
  ConvOptions c1;
  c1.stride = stride;
  std::string y = b.conv(x, out_ch, c1, p + ".conv1");
  y = b.batch_norm(y, p + ".bn1");
  y = b.relu(y, p + ".relu1");
  y = b.conv(y, out_ch, ConvOptions{}, p + ".conv2");
  y = b.batch_norm(y, p + ".bn2");
  std::string shortcut = x;
  if (stride != 1 || in_ch != out_ch) {
    ConvOptions proj;
    proj.kernel = 1;
    proj.stride = stride;
    proj.pad = 0;
    shortcut = b.conv(x, out_ch, proj, p + ".downsample.0");
    shortcut = b.batch_norm(shortcut, p + ".downsample.1");
  }
  y = b.add(y, shortcut, p + ".add");
  return b.relu(y, p + ".relu2");
}

std::string resnet18_stages(ModelBuilder& b, std::string x) {
  const int widths[4] = {64, 128, 256, 512};
  int in_ch = 64;
  for (int s = 0; s < 4; ++s) {
    for (int i = 0; i < 2; ++i) {
      const int stride = (s > 0 && i == 0) ? 2 : 1;
      x = basic_block(b, x, in_ch, widths[s], stride,
                      "layer" + std::to_string(s + 1) + "." + std::to_string(i));
      in_ch = widths[s];
    }
  }
  return x;
}

ModelBuilder resnet18_cifar(std::uint64_t seed) {
  ModelBuilder b("resnet18-cifar", {1, 3, 32, 32}, seed);
  std::string x = b.conv(b.input(), 64, ConvOptions{}, "conv1");  // 3x3 stem, no max pool
  x = b.batch_norm(x, "bn1");
  x = b.relu(x, "relu");
  x = resnet18_stages(b, x);
  x = b.global_average_pool(x, "avgpool");
  x = b.flatten(x, "flatten");
  x = b.gemm(x, 10, "fc");
  b.output(x);
  return b;
}

ModelBuilder resnet18_imagenet(std::uint64_t seed) {
  ModelBuilder b("resnet18-imagenet", {1, 3, 224, 224}, seed);
  ConvOptions stem;
  stem.kernel = 7;
  stem.stride = 2;
  stem.pad = 3;
  std::string x = b.conv(b.input(), 64, stem, "conv1");
  x = b.batch_norm(x, "bn1");
  x = b.relu(x, "relu");
  x = b.max_pool(x, 3, 2, 1, "maxpool");
  x = resnet18_stages(b, x);
  x = b.global_average_pool(x, "avgpool");
  x = b.flatten(x, "flatten");
  x = b.gemm(x, 1000, "fc");
  b.output(x);
  return b;
}

}  // namespace

const std::vector<ZooEntry>& zoo_models() {
  static const std::vector<ZooEntry> entries = {
      {"vgg16-cifar", "VGG-16 (BN) for CIFAR-10: 13 conv3x3, 5 max pools, Gemm 512-10"},
      {"resnet18-cifar",
       "ResNet-18 for CIFAR-10: 3x3 stem, 4 stages of 2 BasicBlocks, Gemm 512-10"},
      {"vgg16-imagenet", "VGG-16 (BN) for ImageNet: 13 conv3x3, GlobalAveragePool + Gemm 512-1000"},
      {"vgg16-imagenet-full",
       "as vgg16-imagenet with the original classifier 25088-4096-4096-1000"},
      {"resnet18-imagenet",
       "ResNet-18 for ImageNet: 7x7/2 stem, max pool, 4 stages, Gemm 512-1000"},
  };
  return entries;
}

ModelBuilder build_zoo_model(const std::string& name, std::uint64_t seed) {
  if (name == "vgg16-cifar") return vgg16_cifar(seed);
  if (name == "resnet18-cifar") return resnet18_cifar(seed);
  if (name == "vgg16-imagenet") return vgg16_imagenet(seed);
  if (name == "vgg16-imagenet-full") return vgg16_imagenet_full(seed);
  if (name == "resnet18-imagenet") return resnet18_imagenet(seed);
  std::string known;
  for (const auto& e : zoo_models()) known += (known.empty() ? "" : ", ") + e.name;
  throw Error(name, "unknown model (known: " + known + ")");
}

}  // namespace pcnn
