#pragma once
// `pcnn-sim run IMAGES_DIR --network --input FILE`: the whole network of an
// image set on one input, in one simulation of the accelerator
// (pcnn/sim/network_run.hpp), with per-operator statistics and energy.

// argv[0] is "run"; returns the exit code, throws pcnn::Error on bad input.
int network_command(int argc, char** argv);
