// `netplace probe import csv`, `sim --links x.csv`, `place --links x.csv` (Skyplane grids, plain
// from,to,bandwidth_bps,latency_ms matrices), folded into a link state as the doors do.
#include "harness.hpp"
#include "netplace/network/federation.hpp"
#include "netplace/network/importers.hpp"
#include "netplace/network/link_state.hpp"

namespace {
const netplace::Federation& federation() {
    static const netplace::Federation fed = netplace::network::load_federation_string(
        "federation: f\nsites:\n  - {name: alpha, regions: ['aws:us-east-1', r1]}\n"
        "  - {name: beta, regions: ['aws:eu-central-1', r2]}\n  - {name: gamma}\n",
        "f.yaml");
    return fed;
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using namespace netplace;
    const Federation& fed = federation();
    fuzz::expect_netplace_errors_only([&] {
        const auto r = network::import_csv(fuzz::text(data, size), "m.csv", fed, 100);
        network::LinkState st;
        network::apply_imports(st, r, fed.probing);
        (void)network::current_links(fed, &st, 110);
    });
    return 0;
}
