// The peers' links file (<links.json>.peers, fixed-size binary rows merged from verified
// snapshots), read on every placement decision. A decoded file must encode back to the same bytes.
#include "harness.hpp"
#include "netplace/network/peer_links.hpp"

#include <cstdlib>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using namespace netplace;
    fuzz::expect_netplace_errors_only([&] {
        const auto p = network::decode_peer_links(fuzz::text(data, size), "links.json.peers");
        const auto again = network::decode_peer_links(network::encode_peer_links(p), "again");
        if (again.rows.size() != p.rows.size() || again.sites != p.sites) std::abort();
    });
    return 0;
}
