#include "src/onnx/model_file.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <limits>
#include <optional>
#include <vector>

#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/io/zero_copy_stream_impl.h>

#include "pcnn/core/error.hpp"
#include "pcnn/core/output_file.hpp"
#include "src/onnx/tensor_data.hpp"

namespace pcnn::onnx_detail {
namespace {

using google::protobuf::io::CodedOutputStream;

constexpr std::uint32_t kGraphField = 7;        // ModelProto.graph
constexpr std::uint32_t kNodeField = 1;         // GraphProto.node
constexpr std::uint32_t kInitializerField = 5;  // GraphProto.initializer
constexpr std::uint32_t kRawDataField = 9;      // TensorProto.raw_data
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
std::unique_ptr<onnx::NodeProto> filled_node(const onnx::NodeProto& node,
                                             const PayloadSource& source) {
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
      throw Error(path_, std::string("cannot write: ") +
                             std::strerror(raw_.GetErrno() ? raw_.GetErrno() : EIO));
  }

 private:
  std::string path_;
  google::protobuf::io::FileOutputStream raw_;
  CodedOutputStream out_;
};

}  // namespace

namespace {

using google::protobuf::io::CodedInputStream;

// Wire-format walk of the model's outer layers. The initializers' raw_data
// payloads, which are nearly all of a model's bytes, are read straight into
// float vectors; everything else is re-encoded into small buffers and parsed
// by protobuf. The weights are thus copied once, not twice.
class StreamingReader {
 public:
  StreamingReader(CodedInputStream& in, const std::string& path, std::int64_t file_size)
      : in_(in), path_(path), file_size_(file_size) {}

  ModelFile read() {
    std::string model_rest, graph_rest;
    std::vector<onnx::TensorProto> initializers;
    ModelFile file;
    bool has_graph = false;
    for (;;) {
      const std::uint32_t tag = in_.ReadTag();
      if (tag == 0) break;
      if (tag == tag_of(kGraphField)) {
        if (has_graph) corrupt();
        has_graph = true;
        const auto limit = push_length();
        read_graph(graph_rest, initializers, file.initializer_values);
        pop(limit);
      } else {
        copy_field(tag, model_rest);
      }
    }
    if (!in_.ConsumedEntireMessage() && !in_.ExpectAtEnd()) corrupt();
    if (!file.model.ParseFromString(model_rest)) corrupt();
    if (!has_graph) throw Error(path_, "not an ONNX model (no graph)");
    auto* graph = file.model.mutable_graph();
    if (!graph->ParseFromString(graph_rest)) corrupt();
    for (auto& t : initializers) *graph->add_initializer() = std::move(t);
    return file;
  }

 private:
  static std::uint32_t tag_of(std::uint32_t field) { return (field << 3) | kLengthDelimited; }

  [[noreturn]] void corrupt() const {
    throw Error(path_, "not a valid ONNX model (protobuf parse failed: truncated or corrupt file)");
  }

  CodedInputStream::Limit push_length() {
    std::uint32_t length = 0;
    if (!in_.ReadVarint32(&length) || length > static_cast<std::uint32_t>(INT32_MAX)) corrupt();
    if (!fits(length)) corrupt();
    return in_.PushLimit(static_cast<int>(length));
  }

  void pop(CodedInputStream::Limit limit) {
    if (!in_.ConsumedEntireMessage() && in_.BytesUntilLimit() != 0) corrupt();
    in_.PopLimit(limit);
  }

  // Appends one field, already tagged, to `out` in wire format.
  void copy_field(std::uint32_t tag, std::string& out) {
    std::string bytes;
    google::protobuf::io::StringOutputStream sos(&out);
    CodedOutputStream os(&sos);
    os.WriteTag(tag);
    switch (tag & 7) {
      case 0: {
        std::uint64_t v;
        if (!in_.ReadVarint64(&v)) corrupt();
        os.WriteVarint64(v);
        break;
      }
      case 1: {
        std::uint64_t v;
        if (!in_.ReadLittleEndian64(&v)) corrupt();
        os.WriteLittleEndian64(v);
        break;
      }
      case 2: {
        std::uint32_t length;
        if (!in_.ReadVarint32(&length) || length > static_cast<std::uint32_t>(INT32_MAX) ||
            !fits(length) || !in_.ReadString(&bytes, static_cast<int>(length)))
          corrupt();
        os.WriteVarint32(length);
        os.WriteRaw(bytes.data(), static_cast<int>(bytes.size()));
        break;
      }
      case 5: {
        std::uint32_t v;
        if (!in_.ReadLittleEndian32(&v)) corrupt();
        os.WriteLittleEndian32(v);
        break;
      }
      default:
        corrupt();  // groups are not used by ONNX
    }
  }

  void read_graph(std::string& rest, std::vector<onnx::TensorProto>& initializers,
                  std::vector<std::optional<std::vector<float>>>& values) {
    for (;;) {
      const std::uint32_t tag = in_.ReadTag();
      if (tag == 0) break;
      if (tag == tag_of(kInitializerField)) {
        const auto limit = push_length();
        std::optional<std::vector<float>> decoded;
        initializers.push_back(read_tensor(decoded));
        values.push_back(std::move(decoded));
        pop(limit);
      } else {
        copy_field(tag, rest);
      }
    }
  }

  // A TensorProto whose float raw_data, when its dims and type precede it (as
  // every protobuf writer orders them), goes into `decoded` instead.
  onnx::TensorProto read_tensor(std::optional<std::vector<float>>& decoded) {
    std::string rest;
    for (;;) {
      const std::uint32_t tag = in_.ReadTag();
      if (tag == 0) break;
      if (tag == tag_of(kRawDataField) && !decoded) {
        onnx::TensorProto head;
        if (!head.ParseFromString(rest)) corrupt();
        std::uint32_t length;
        if (!in_.ReadVarint32(&length) || length > static_cast<std::uint32_t>(INT32_MAX) ||
            !fits(length))
          corrupt();
        std::uint64_t count = 1;
        bool dims_ok = true;
        for (auto d : head.dims()) {
          dims_ok = dims_ok && d >= 0 && d < (std::int64_t{1} << 40);
          if (dims_ok) count *= static_cast<std::uint64_t>(d);
          dims_ok = dims_ok && count < (std::uint64_t{1} << 40);
        }
        if (head.data_type() == onnx::TensorProto::FLOAT && dims_ok && length == count * 4) {
          std::vector<float> v = allocate_floats(count);
          if (count > 0 && !in_.ReadRaw(v.data(), static_cast<int>(length))) corrupt();
          decoded = std::move(v);
          continue;
        }
        // Anything else stays raw_data in the proto for the general decoder.
        std::string bytes;
        if (!in_.ReadString(&bytes, static_cast<int>(length))) corrupt();
        google::protobuf::io::StringOutputStream sos(&rest);
        CodedOutputStream os(&sos);
        os.WriteTag(tag);
        os.WriteVarint32(length);
        os.WriteRaw(bytes.data(), static_cast<int>(bytes.size()));
      } else {
        copy_field(tag, rest);
      }
    }
    onnx::TensorProto t;
    if (!t.ParseFromString(rest)) corrupt();
    if (decoded && (!t.raw_data().empty() || t.data_location() == onnx::TensorProto::EXTERNAL))
      throw Error(path_, "tensor '" + t.name() + "': holds its data twice");
    return t;
  }

  // A length field cannot claim more bytes than the file has left (so a corrupt
  // length never makes us allocate for it).
  bool fits(std::uint32_t length) const { return length <= file_size_ - in_.CurrentPosition(); }

  CodedInputStream& in_;
  const std::string& path_;
  std::int64_t file_size_;
};

}  // namespace

ModelFile read_model_file(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0)
    throw Error(path, std::string("cannot open: ") + std::strerror(errno));
  if (!S_ISREG(st.st_mode)) throw Error(path, "not a regular file");
  if (st.st_size > INT32_MAX) throw Error(path, "larger than the 2 GiB protobuf limit");
  const int fd = ::open(path.c_str(), O_RDONLY);
  if (fd < 0) throw Error(path, std::string("cannot open: ") + std::strerror(errno));
  ModelFile file;
  int read_errno = 0;
  try {
    google::protobuf::io::FileInputStream stream(fd, 1 << 20);  // large reads: fewer system calls
    {
      CodedInputStream in(&stream);
      in.SetTotalBytesLimit(INT32_MAX);
      StreamingReader reader(in, path, st.st_size);
      file = reader.read();
    }
    read_errno = stream.GetErrno();
  } catch (...) {
    ::close(fd);
    throw;
  }
  ::close(fd);
  if (read_errno != 0) throw Error(path, std::string("cannot read: ") + std::strerror(read_errno));
  return file;
}

void write_model_file(const onnx::ModelProto& model, const PayloadSource& source,
                      const std::string& path) {
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

  OutputFile file(path, "the ONNX model");
  file.flush();
  {  // the sink's buffers are flushed and gone before the file is committed
    FileSink sink(file.fd(), path);
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
  file.commit();
}

}  // namespace pcnn::onnx_detail
