#pragma once
// Shared command-line parsing for the programs: the visible options plus one
// positional argument, with Boost.Program_options errors turned into
// pcnn::Error("command line", ...), so every program reports them alike.
#include <string>

#include <boost/program_options.hpp>

#include "pcnn/core/error.hpp"

namespace pcnn {

inline boost::program_options::variables_map parse_command_line(
    int argc, char* argv[], const boost::program_options::options_description& visible,
    const char* positional_name, std::string& positional_value) {
  namespace po = boost::program_options;
  po::options_description hidden;
  hidden.add_options()(positional_name, po::value(&positional_value));
  po::options_description all;
  all.add(visible).add(hidden);
  po::positional_options_description positional;
  positional.add(positional_name, 1);
  po::variables_map vm;
  try {
    po::store(po::command_line_parser(argc, argv).options(all).positional(positional).run(), vm);
    po::notify(vm);
  } catch (const po::error& e) {
    throw Error("command line", e.what());
  }
  return vm;
}

}  // namespace pcnn
