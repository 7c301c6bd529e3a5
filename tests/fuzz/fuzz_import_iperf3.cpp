// `netplace probe import iperf3` (iperf3 -J output).
#include "harness.hpp"
#include "netplace/network/importers.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using namespace netplace;
    fuzz::expect_netplace_errors_only(
        [&] { (void)network::import_iperf3(fuzz::text(data, size), "i.json", "alpha", "beta"); });
    return 0;
}
