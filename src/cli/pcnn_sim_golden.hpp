#pragma once
// `pcnn-sim golden`: a whole network on one input through the golden integer
// network executor (docs/golden-reference.md, "Whole networks").

// argv[0] is "golden"; returns the exit code, throws pcnn::Error on bad input.
int golden_command(int argc, char** argv);
