// federation.yaml (the admin's sites, links, probing settings).
#include "harness.hpp"
#include "netplace/network/federation.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using namespace netplace;
    fuzz::expect_netplace_errors_only(
        [&] { (void)network::load_federation_string(fuzz::text(data, size), "fuzz.yaml"); });
    return 0;
}
