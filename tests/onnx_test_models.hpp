#pragma once
// Tiny ONNX models written directly with the protobuf classes, independent of
// the project's own ONNX code: a one-conv network and a network without Conv.
#include <onnx/onnx_pb.h>

#include <fstream>
#include <random>
#include <string>
#include <vector>

namespace pcnn_test {

inline void add_value_info(onnx::ValueInfoProto* v, const std::string& name,
                           const std::vector<std::int64_t>& shape) {
  v->set_name(name);
  auto* t = v->mutable_type()->mutable_tensor_type();
  t->set_elem_type(onnx::TensorProto::FLOAT);
  for (std::int64_t d : shape) t->mutable_shape()->add_dim()->set_dim_value(d);
}

inline void add_float_initializer(onnx::GraphProto* g, const std::string& name,
                                  const std::vector<std::int64_t>& dims, std::uint32_t seed) {
  auto* t = g->add_initializer();
  t->set_name(name);
  t->set_data_type(onnx::TensorProto::FLOAT);
  std::int64_t count = 1;
  for (std::int64_t d : dims) {
    t->add_dims(d);
    count *= d;
  }
  std::mt19937 rng(seed);
  std::normal_distribution<float> nd(0.0f, 0.2f);
  for (std::int64_t i = 0; i < count; ++i) t->add_float_data(nd(rng));
}

inline onnx::ModelProto model_skeleton(const std::string& name) {
  onnx::ModelProto m;
  m.set_ir_version(8);
  m.set_producer_name("pcnn-tests");
  auto* op = m.add_opset_import();
  op->set_domain("");
  op->set_version(13);
  m.mutable_graph()->set_name(name);
  return m;
}

inline void save_model(const onnx::ModelProto& m, const std::string& path) {
  std::ofstream out(path, std::ios::binary);
  m.SerializeToOstream(&out);
}

// x[1,3,8,8] -> Conv(4 x 3 x 3 x 3, pad 1) -> Relu -> Conv(5 x 4 x 3 x 3, pad 1) -> y.
inline onnx::ModelProto two_conv_model() {
  onnx::ModelProto m = model_skeleton("two_conv");
  auto* g = m.mutable_graph();
  add_value_info(g->add_input(), "x", {1, 3, 8, 8});
  add_value_info(g->add_output(), "y", {1, 5, 8, 8});
  add_float_initializer(g, "w1", {4, 3, 3, 3}, 1);
  add_float_initializer(g, "b1", {4}, 2);
  add_float_initializer(g, "w2", {5, 4, 3, 3}, 3);
  auto conv = [&](const std::string& name, const std::string& in, const std::string& w,
                  const std::string& b, const std::string& out) {
    auto* n = g->add_node();
    n->set_name(name);
    n->set_op_type("Conv");
    n->add_input(in);
    n->add_input(w);
    if (!b.empty()) n->add_input(b);
    n->add_output(out);
    auto* a = n->add_attribute();
    a->set_name("pads");
    a->set_type(onnx::AttributeProto::INTS);
    for (int i = 0; i < 4; ++i) a->add_ints(1);
    auto* k = n->add_attribute();
    k->set_name("kernel_shape");
    k->set_type(onnx::AttributeProto::INTS);
    k->add_ints(3);
    k->add_ints(3);
  };
  conv("conv1", "x", "w1", "b1", "c1");
  auto* relu = g->add_node();
  relu->set_name("relu1");
  relu->set_op_type("Relu");
  relu->add_input("c1");
  relu->add_output("r1");
  conv("conv2", "r1", "w2", "", "y");
  return m;
}

// x[1,3,8,8] -> Relu -> y: a valid model with nothing to prune.
inline onnx::ModelProto no_conv_model() {
  onnx::ModelProto m = model_skeleton("no_conv");
  auto* g = m.mutable_graph();
  add_value_info(g->add_input(), "x", {1, 3, 8, 8});
  add_value_info(g->add_output(), "y", {1, 3, 8, 8});
  auto* relu = g->add_node();
  relu->set_name("relu");
  relu->set_op_type("Relu");
  relu->add_input("x");
  relu->add_output("y");
  return m;
}

}  // namespace pcnn_test
