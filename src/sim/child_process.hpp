#pragma once
// Runs `work` in a forked child process and returns its JSON result through a
// pipe (CBOR): SystemC elaborates one simulation per process, so a program
// that runs several forks one child per run. An exception in the child comes
// back as pcnn::Error with its message.
#include <functional>

#include <nlohmann/json.hpp>

namespace pcnn {

nlohmann::json run_in_child(const std::function<nlohmann::json()>& work);

}  // namespace pcnn
