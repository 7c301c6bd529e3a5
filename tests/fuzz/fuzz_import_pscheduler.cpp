// `netplace probe import pscheduler` (perfSONAR throughput, rtt and latency results).
#include "harness.hpp"
#include "netplace/network/importers.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using namespace netplace;
    fuzz::expect_netplace_errors_only([&] {
        (void)network::import_pscheduler(fuzz::text(data, size), "p.json", "alpha", "beta", 0);
    });
    fuzz::expect_netplace_errors_only(
        [&] { (void)network::parse_iso8601_duration(fuzz::text(data, size)); });
    return 0;
}
