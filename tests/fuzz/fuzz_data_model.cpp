// The simulator's data model YAML (`netplace sim --data-model`).
#include "harness.hpp"
#include "netplace/network/federation.hpp"
#include "netplace/sim/workload.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using namespace netplace;
    static const Federation fed = network::load_federation_string(
        "federation: f\nsites:\n  - {name: alpha}\n  - {name: beta}\n", "f.yaml");
    fuzz::expect_netplace_errors_only(
        [&] { (void)sim::parse_data_model(fuzz::text(data, size), "m.yaml", fed); });
    return 0;
}
