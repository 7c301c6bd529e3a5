// sites.json (queue load per site, written by the collector, read on every submission).
#include "harness.hpp"
#include "netplace/policies/site_state.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using namespace netplace;
    fuzz::expect_netplace_errors_only([&] {
        const auto loads = policies::parse_site_state(fuzz::text(data, size), "sites.json", 1e9);
        (void)policies::format_site_state(loads, 1e9);
    });
    return 0;
}
