#pragma once
// What every program shares on its command line: the visible options plus one
// positional argument and --version, parsed by Boost.Program_options, and one way
// to end: "<program>: <message>" on stderr, exit status 0 on success, 2 for a
// usage error (a bad or missing option, README "Exit status"), 1 for any other
// failure.
#include <functional>
#include <string>

#include <boost/program_options.hpp>

#include "pcnn/core/error.hpp"

namespace pcnn {

// A command line that cannot mean anything: unknown or malformed option, missing
// argument, options that exclude each other, a value out of its range.
class UsageError : public Error {
 public:
  using Error::Error;
};

inline constexpr int kExitFailure = 1;
inline constexpr int kExitUsage = 2;

// Adds --version to `visible` (so --help lists it) and parses; Boost's errors
// become UsageError("command line", ...).
boost::program_options::variables_map parse_command_line(
    int argc, char* argv[], boost::program_options::options_description& visible,
    const char* positional_name, std::string& positional_value);

// Prints pcnn::version_line(program) on stdout and returns 0.
int print_version(const std::string& program);

// After parse_command_line(): prints `visible` for --help, or the version for
// --version, on stdout and returns true (the program ends with exit status 0);
// false when neither was asked for.
bool answered_help_or_version(const boost::program_options::variables_map& vm,
                              const boost::program_options::options_description& visible,
                              const std::string& program);

// Runs a program's body and turns an escaping exception into one line on stderr
// and the exit status: UsageError 2, pcnn::Error 1 ("<program>: <message>"),
// std::bad_alloc 1 ("<program>: <input>: out of memory"), anything else 1
// ("<program>: <input>: internal error: ..."), where <input> is the positional
// argument parse_command_line() read (the model, image set or sweep file), so
// that even these failures name what the program was working on. Readers name
// their own file (pcnn/core/failure_context.hpp).
int run_program(const std::string& program, const std::function<int()>& body);

}  // namespace pcnn
