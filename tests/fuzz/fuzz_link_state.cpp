// links.json (the link-state file every door reads), both the full and the hot-path reader; a
// parsed state must write out and read back.
#include "harness.hpp"
#include "netplace/network/link_state.hpp"

#include <cstdlib>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using namespace netplace;
    const std::string s = fuzz::text(data, size);
    fuzz::expect_netplace_errors_only([&] {
        const auto st = network::parse_link_state(s, "links.json");
        const auto again = network::parse_link_state(network::to_json_text(st), "again.json");
        if (again.links.size() != st.links.size()) std::abort();
    });
    fuzz::expect_netplace_errors_only(
        [&] { (void)network::parse_link_state(s, "links.json", /*estimates_only=*/true); });
    return 0;
}
