#pragma once
// `pcnn-sim sweep`: architecture sweeps from JSON (docs/sweeps.md).

// argv[0] is "sweep"; returns the exit code, throws pcnn::Error on bad input.
int sweep_command(int argc, char** argv);
