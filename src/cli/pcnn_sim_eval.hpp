#pragma once
// `pcnn-sim eval`: classifier accuracy of a pruned network on a labelled image
// set (idx files, e.g. Fashion-MNIST) through the golden integer network
// executor, optionally the float interpreter (docs/accuracy.md).

// argv[0] is "eval"; returns the exit code, throws pcnn::Error on bad input.
int eval_command(int argc, char** argv);
