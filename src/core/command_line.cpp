#include "pcnn/core/command_line.hpp"

#include <cstdio>
#include <iostream>
#include <new>

#include "pcnn/core/printable.hpp"
#include "pcnn/core/version.hpp"

namespace po = boost::program_options;

namespace {

// The program's main input (its positional argument), named by run_program when
// a failure does not name a file itself. Set once by parse_command_line.
std::string& program_input() {
  static std::string input;
  return input;
}

// "<input>: " when the program has one.
std::string input_prefix() {
  return program_input().empty() ? std::string() : pcnn::printable(program_input()) + ": ";
}

}  // namespace

po::variables_map pcnn::parse_command_line(int argc, char* argv[], po::options_description& visible,
                                           const char* positional_name,
                                           std::string& positional_value) {
  visible.add_options()("version", "print the version and git commit");
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
    throw UsageError("command line", e.what());
  }
  program_input() = positional_value;
  return vm;
}

int pcnn::print_version(const std::string& program) {
  std::cout << version_line(program) << "\n";
  return 0;
}

int pcnn::run_program(const std::string& program, const std::function<int()>& body) {
  try {
    return body();
  } catch (const UsageError& e) {
    std::fprintf(stderr, "%s: %s\n", program.c_str(), e.what());
    return kExitUsage;
  } catch (const Error& e) {
    std::fprintf(stderr, "%s: %s\n", program.c_str(), e.what());
  } catch (const std::bad_alloc&) {
    std::fprintf(stderr, "%s: %sout of memory\n", program.c_str(), input_prefix().c_str());
  } catch (const std::exception& e) {
    std::fprintf(stderr, "%s: %sinternal error: %s\n", program.c_str(), input_prefix().c_str(),
                 printable(e.what()).c_str());
  }
  return kExitFailure;
}

bool pcnn::answered_help_or_version(const boost::program_options::variables_map& vm,
                                    const boost::program_options::options_description& visible,
                                    const std::string& program) {
  if (vm.count("help")) {
    std::cout << visible;
    return true;
  }
  if (vm.count("version")) {
    print_version(program);
    return true;
  }
  return false;
}
