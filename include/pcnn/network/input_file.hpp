#pragma once
// Network inputs and outputs as files (docs/quantisation.md, "Input files"):
// NumPy .npy arrays (float32 or uint8, NCHW or HWC), PGM/PPM and PNG images,
// and int8 .npy outputs with their scale.
#include <cstdint>
#include <string>
#include <vector>

namespace pcnn {

// An array read from a .npy file.
struct NpyArray {
  std::vector<std::int64_t> shape;
  bool is_uint8 = false;      // '|u1'; otherwise float32 ('<f4'), or int8 when is_int8
  bool is_int8 = false;       // '|i1'
  std::vector<float> values;  // float32 as read; uint8 and int8 as their integer value
};

// Reads a C-order .npy file of dtype float32, uint8 or int8 (version 1, 2 or 3).
// Throws pcnn::Error(path, ...) naming what is wrong.
NpyArray read_npy(const std::string& path);

// Reads one network input for a model whose input is NCHW `nchw` (batch 1)
// and returns it as NCHW floats:
//   .npy   float32 taken as is; uint8 divided by 255. Shape [1,C,H,W] or [C,H,W]
//          (NCHW), [1,H,W,C] or [H,W,C] (HWC, channels last), or [H,W] for C = 1;
//          when a shape fits both orders, NCHW is meant.
//   .pgm .ppm (P2, P3, P5, P6; maxval up to 65535) and .png (8 or 16 bit; grey,
//          RGB, palette; alpha dropped): pixel / maxval, grey for C = 1, RGB for C = 3.
// No mean or standard deviation is applied: give a float32 .npy for inputs
// that need it. Throws pcnn::Error(path, ...) for a bad file or a size that
// does not match the model.
std::vector<float> read_network_input(const std::string& path,
                                      const std::vector<std::int64_t>& nchw);

// Calibration data (pcnn-prune --calib): a directory (every .npy, .pgm, .ppm
// and .png file in it, in name order, each one input), a .npy batch
// [N,C,H,W] or [N,H,W,C], or a single input file. At least one input.
// The inputs are read one at a time, when calibration asks for them, so a
// directory of any number of files costs the memory of one; each file is
// bounded on its own (the tensor limit, pcnn/core/tensor_limit.hpp).
class CalibrationInputs {
 public:
  // Lists the directory, or reads the .npy batch, for a model input `nchw`.
  // Throws pcnn::Error(path, ...) when there is nothing to read.
  CalibrationInputs(const std::string& path, const std::vector<std::int64_t>& nchw);

  std::size_t size() const;
  // The file input i comes from (the batch file for every item of a batch).
  const std::string& file(std::size_t i) const;
  // Input i (0 <= i < size()) as NCHW floats, read now. Throws
  // pcnn::Error(file(i), ...) for a bad file.
  std::vector<float> read(std::size_t i) const;

 private:
  std::string path_;
  std::vector<std::int64_t> nchw_;
  std::vector<std::string> files_;  // a directory's input files, in name order
  NpyArray batch_;                  // a .npy batch [N, ...] (shape empty otherwise)
  bool batch_chw_ = true;           // its items are [C,H,W], not [H,W,C]
};

// True for the suffixes read_network_input() reads (.npy .pgm .ppm .png).
bool is_network_input_file(const std::string& path);

// int8 array as .npy ('|i1', C order, version 1.0).
std::string npy_bytes(const std::vector<std::int8_t>& values,
                      const std::vector<std::int64_t>& shape);

}  // namespace pcnn
