// Catch2 entry point. SystemC's library provides main() and calls sc_main(), so
// the test binary defines sc_main and hands control to Catch there.
#define CATCH_CONFIG_RUNNER
#include <catch2/catch.hpp>

#include <systemc>

int sc_main(int argc, char* argv[]) { return Catch::Session().run(argc, argv); }
