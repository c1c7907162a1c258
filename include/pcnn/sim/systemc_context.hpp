#pragma once
// SystemC elaborates once per simulation context. simulate() and the module
// tests start each run in a fresh context so that one process can run
// several simulations (the old context is left to the process's end).
namespace pcnn {

void fresh_systemc_context();

}  // namespace pcnn
