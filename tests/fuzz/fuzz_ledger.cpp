// The staging ledger (<state_dir>/transfers.json): `netplace stage status`, the engine's link
// occupancy (every placement decision reads it). A parsed ledger must write out and read back.
#include "harness.hpp"
#include "netplace/data/ledger.hpp"

#include <cstdlib>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using namespace netplace;
    fuzz::expect_netplace_errors_only([&] {
        const auto l = data::parse_ledger(fuzz::text(data, size), "transfers.json");
        (void)data::link_occupancy(l, 1e9);
        const auto again = data::parse_ledger(data::ledger_json(l), "again.json");
        if (again.transfers.size() != l.transfers.size()) std::abort();
    });
    return 0;
}
