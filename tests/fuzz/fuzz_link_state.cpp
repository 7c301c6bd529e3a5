// links.json (the link-state file every door reads), both the full and the hot-path reader; a
// parsed state must write out and read back. On a federation of the state's own site names (so
// every input reaches it), placement's known pairs (LinkPairs::known) must be exactly every
// pair's answer less pairs on the federation's defaults, in the same order.
#include "harness.hpp"
#include "netplace/network/link_state.hpp"

#include <algorithm>
#include <cmath>
#include <cstdlib>

namespace {

using namespace netplace;

bool same(double a, double b) { return a == b || (std::isnan(a) && std::isnan(b)); }
bool same(const std::optional<double>& a, const std::optional<double>& b) {
    return a.has_value() == b.has_value() && (!a || same(*a, *b));
}

void check_known_pairs(const network::LinkState& st) {
    Federation fed;
    fed.name = "fuzz";
    for (const auto& r : st.links) {
        for (const std::string* n : {&r.from, &r.to}) {
            if (fed.sites.size() >= 6) break;
            if (std::none_of(fed.sites.begin(), fed.sites.end(),
                             [&](const Site& s) { return s.name == *n; })) {
                Site s;
                s.name = *n;
                fed.sites.push_back(std::move(s));
            }
        }
    }
    if (fed.sites.size() >= 2) {
        fed.local_site = fed.sites[0].name;
        fed.links.push_back({fed.sites[1].name, fed.sites[0].name, 1e10, 0.001});
    }
    const auto every = network::current_links(fed, &st, 1e9, network::LinkPairs::every);
    const auto known = network::current_links(fed, &st, 1e9, network::LinkPairs::known);
    std::size_t k = 0;
    for (const auto& e : every) {
        if (k < known.size() && known[k].from == e.from && known[k].to == e.to) {
            const LinkEstimate& x = known[k++];
            if (!same(x.bandwidth_bps, e.bandwidth_bps) || !same(x.latency_s, e.latency_s) ||
                x.health != e.health || x.measured != e.measured || !same(x.age_s, e.age_s) ||
                !same(x.jitter_s, e.jitter_s) || x.source != e.source || x.origin != e.origin)
                std::abort();  // a known pair answered differently
        } else if (e.source != "default" || e.measured || e.health != LinkHealth::unknown ||
                   e.age_s) {
            std::abort();  // a pair something is known about was left out
        }
    }
    if (k != known.size()) std::abort();  // known pairs out of order or not among every pair
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string s = fuzz::text(data, size);
    fuzz::expect_netplace_errors_only([&] {
        const auto st = network::parse_link_state(s, "links.json");
        const auto again = network::parse_link_state(network::to_json_text(st), "again.json");
        if (again.links.size() != st.links.size()) std::abort();
    });
    fuzz::expect_netplace_errors_only([&] {
        check_known_pairs(network::parse_link_state(s, "links.json", /*estimates_only=*/true));
    });
    return 0;
}
