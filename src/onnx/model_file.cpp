#include "src/onnx/model_file.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <limits>
#include <vector>

#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/io/zero_copy_stream_impl.h>

#include "pcnn/core/error.hpp"
#include "src/onnx/tensor_data.hpp"

namespace pcnn::onnx_detail {
namespace {

using google::protobuf::io::CodedOutputStream;

constexpr std::uint32_t kGraphField = 7;         // ModelProto.graph
constexpr std::uint32_t kNodeField = 1;          // GraphProto.node
constexpr std::uint32_t kInitializerField = 5;   // GraphProto.initializer
constexpr std::uint32_t kRawDataField = 9;       // TensorProto.raw_data
constexpr std::uint32_t kLengthDelimited = 2;

std::uint32_t tag(std::uint32_t field) { return (field << 3) | kLengthDelimited; }

std::size_t varint_size(std::uint64_t v) { return CodedOutputStream::VarintSize64(v); }

// The serialised size of a tensor whose payload is streamed after its other fields.
std::uint64_t streamed_size(const onnx::TensorProto& t) {
  std::uint64_t count = 1;
  for (auto d : t.dims()) count *= static_cast<std::uint64_t>(d);
  const std::uint64_t raw = raw_byte_count(t.data_type(), count);
  std::uint64_t size = t.ByteSizeLong();
  if (raw > 0) size += varint_size(tag(kRawDataField)) + varint_size(raw) + raw;
  return size;
}

std::uint64_t element_product(const onnx::TensorProto& t) {
  std::uint64_t count = 1;
  for (auto d : t.dims()) count *= static_cast<std::uint64_t>(d);
  return count;
}

// A node with its Constant tensors filled in (a copy), or nullptr when none needs it.
std::unique_ptr<onnx::NodeProto> filled_node(const onnx::NodeProto& node, const PayloadSource& source) {
  if (node.op_type() != "Constant") return nullptr;
  std::unique_ptr<onnx::NodeProto> copy;
  for (int a = 0; a < node.attribute_size(); ++a) {
    const auto& attr = node.attribute(a);
    if (!attr.has_t() || !source.supplies(attr.t())) continue;
    const float* values = source.values(attr.t());
    if (!copy) copy = std::make_unique<onnx::NodeProto>(node);
    auto* t = copy->mutable_attribute(a)->mutable_t();
    encode_raw(values, element_product(*t), t->data_type(), *t->mutable_raw_data());
  }
  return copy;
}

class FileSink {
 public:
  FileSink(int fd, const std::string& path) : path_(path), raw_(fd), out_(&raw_) {}
  CodedOutputStream& out() { return out_; }
  void write_payload(const float* values, std::size_t count, int data_type) {
    if (data_type == onnx::TensorProto::FLOAT) {
      const char* bytes = reinterpret_cast<const char*>(values);
      std::size_t left = count * 4;
      while (left > 0) {  // WriteRaw takes an int
        const std::size_t n = std::min<std::size_t>(left, 1u << 30);
        out_.WriteRaw(bytes, static_cast<int>(n));
        bytes += n;
        left -= n;
      }
      return;
    }
    std::string chunk;
    constexpr std::size_t kChunk = 1 << 16;
    for (std::size_t i = 0; i < count; i += kChunk) {
      chunk.clear();
      encode_raw(values + i, std::min(kChunk, count - i), data_type, chunk);
      out_.WriteRaw(chunk.data(), static_cast<int>(chunk.size()));
    }
  }
  void finish() {
    out_.Trim();
    if (out_.HadError() || raw_.GetErrno() != 0 || !raw_.Flush())
      throw Error(path_, std::string("cannot write: ") + std::strerror(raw_.GetErrno() ? raw_.GetErrno() : EIO));
  }

 private:
  std::string path_;
  google::protobuf::io::FileOutputStream raw_;
  CodedOutputStream out_;
};

}  // namespace

onnx::ModelProto read_model_file(const std::string& path) {
  struct stat st{};
  if (::stat(path.c_str(), &st) != 0)
    throw Error(path, std::string("cannot open: ") + std::strerror(errno));
  if (!S_ISREG(st.st_mode)) throw Error(path, "not a regular file");
  const int fd = ::open(path.c_str(), O_RDONLY);
  if (fd < 0) throw Error(path, std::string("cannot open: ") + std::strerror(errno));
  onnx::ModelProto model;
  bool ok;
  int read_errno;
  {
    google::protobuf::io::FileInputStream in(fd);
    ok = model.ParseFromZeroCopyStream(&in);
    read_errno = in.GetErrno();
  }
  ::close(fd);
  if (read_errno != 0) throw Error(path, std::string("cannot read: ") + std::strerror(read_errno));
  if (!ok) throw Error(path, "not a valid ONNX model (protobuf parse failed: truncated or corrupt file)");
  if (!model.has_graph()) throw Error(path, "not an ONNX model (no graph)");
  return model;
}

void write_model_file(const onnx::ModelProto& model, const PayloadSource& source,
                      const std::string& path) {
  namespace fs = std::filesystem;
  const onnx::GraphProto& graph = model.graph();

  // Everything but the nodes and initializers, serialised the normal way.
  onnx::ModelProto model_rest(model);
  model_rest.clear_graph();
  onnx::GraphProto graph_rest;
  graph_rest.CopyFrom(graph);
  graph_rest.clear_node();
  graph_rest.clear_initializer();

  // First pass: the graph's length.
  std::uint64_t graph_size = graph_rest.ByteSizeLong();
  for (const auto& node : graph.node()) {
    const auto filled = filled_node(node, source);
    const std::uint64_t n = filled ? filled->ByteSizeLong() : node.ByteSizeLong();
    graph_size += varint_size(tag(kNodeField)) + varint_size(n) + n;
  }
  for (const auto& init : graph.initializer()) {
    const std::uint64_t n = source.supplies(init) ? streamed_size(init) : init.ByteSizeLong();
    graph_size += varint_size(tag(kInitializerField)) + varint_size(n) + n;
  }

  const fs::path target(path);
  const fs::path dir = target.has_parent_path() ? target.parent_path() : fs::path(".");
  std::string tmpl = (dir / ("." + target.filename().string() + ".tmp.XXXXXX")).string();
  std::vector<char> name(tmpl.begin(), tmpl.end());
  name.push_back('\0');
  const int fd = ::mkstemp(name.data());
  if (fd < 0) throw Error(path, std::string("cannot create file: ") + std::strerror(errno));
  const std::string tmp(name.data());
  try {
    {
      FileSink sink(fd, path);
      auto& out = sink.out();
      model_rest.SerializeToCodedStream(&out);
      out.WriteTag(tag(kGraphField));
      out.WriteVarint64(graph_size);
      graph_rest.SerializeToCodedStream(&out);
      for (const auto& node : graph.node()) {
        const auto filled = filled_node(node, source);
        const onnx::NodeProto& n = filled ? *filled : node;
        out.WriteTag(tag(kNodeField));
        out.WriteVarint64(n.ByteSizeLong());
        n.SerializeWithCachedSizes(&out);
      }
      for (const auto& init : graph.initializer()) {
        out.WriteTag(tag(kInitializerField));
        if (!source.supplies(init)) {
          out.WriteVarint64(init.ByteSizeLong());
          init.SerializeWithCachedSizes(&out);
          continue;
        }
        out.WriteVarint64(streamed_size(init));  // also caches the sizes
        init.SerializeWithCachedSizes(&out);     // the payload-free part
        const std::uint64_t count = element_product(init);
        const std::uint64_t raw = raw_byte_count(init.data_type(), count);
        if (raw > 0) {
          out.WriteTag(tag(kRawDataField));
          out.WriteVarint64(raw);
          sink.write_payload(source.values(init), count, init.data_type());
        }
      }
      sink.finish();
    }
  } catch (...) {
    ::close(fd);
    ::unlink(tmp.c_str());
    throw;
  }
  if (::fchmod(fd, 0644) != 0 || ::close(fd) != 0 || ::rename(tmp.c_str(), path.c_str()) != 0) {
    const int e = errno;
    ::unlink(tmp.c_str());
    throw Error(path, std::string("cannot write: ") + std::strerror(e));
  }
}

}  // namespace pcnn::onnx_detail
