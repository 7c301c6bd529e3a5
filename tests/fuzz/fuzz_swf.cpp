// SWF workload traces (`netplace sim`), lenient and strict.
#include "harness.hpp"
#include "netplace/sim/swf.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using namespace netplace;
    const std::string s = fuzz::text(data, size);
    fuzz::expect_netplace_errors_only([&] { (void)sim::parse_swf(s, "t.swf"); });
    sim::SwfOptions strict;
    strict.strict = true;
    fuzz::expect_netplace_errors_only([&] { (void)sim::parse_swf(s, "t.swf", strict); });
    return 0;
}
