#pragma once
// Network inputs and outputs shared by `pcnn-sim golden` and
// `pcnn-sim run --network`: the input file quantised for the network, int8
// tensors written as .npy with their scale, the intermediate-tensor folder and
// the top classes of a classifier.
#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "pcnn/golden/golden_network.hpp"
#include "pcnn/image/staging_dir.hpp"

// The image set's network (images and network.json), or with a non-empty
// --input-shape text (NxCxHxW) the same network carried to that input size,
// every tensor's and conv layer's shape with it (set_network_input_shape).
pcnn::GoldenNetwork load_network(const std::string& images_dir,
                                 const std::string& input_shape_text);

// The network's int8 input from FILE: .npy / PGM / PPM / PNG quantised at the
// input scale, or a PCNT tensor already at it; a wrong shape names the file.
std::vector<std::int8_t> read_quantised_input(const std::string& path,
                                              const pcnn::GoldenNetwork& net);

// FILE.npy plus FILE.npy.json with the tensor's name, shape and scale.
void write_int8_tensor(const std::string& path, const std::string& name,
                       const std::vector<std::int8_t>& values,
                       const std::vector<std::int64_t>& shape, float scale,
                       const std::string& what);

// Refuses an existing, non-empty --dump-layers folder (before any work).
void check_dump_dir(const std::string& dir);

// The intermediate tensors of a run in a folder it creates: 000.npy, ...
// and index.json listing them. The files go into a hidden sibling folder that
// appears under the final name only when finish() has written everything
// (pcnn/image/staging_dir.hpp): a failed run leaves nothing behind.
class LayerDump {
 public:
  explicit LayerDump(const std::string& dir);
  void add(const pcnn::NetNode& node, const pcnn::NetTensor& tensor,
           const std::vector<std::int8_t>& values);
  void finish();  // writes index.json

 private:
  pcnn::StagingDirectory staging_;
  nlohmann::json index_ = nlohmann::json::array();
};

std::string shape_text(const std::vector<std::int64_t>& s);  // "1x10"

// "output 1x10, scale S, N operators", then for a classifier the top classes
// and "class K".
void print_network_output(const std::vector<std::int8_t>& values,
                          const std::vector<std::int64_t>& shape, float scale,
                          std::size_t operators, int top);
