#include "netplace/policies/inputs.hpp"

#include <string_view>
#include <unordered_map>

namespace netplace::policies {
namespace {

std::unordered_map<std::string_view, std::size_t> site_positions(const Federation& fed) {
    std::unordered_map<std::string_view, std::size_t> pos;
    pos.reserve(fed.sites.size() * 2);
    for (std::size_t i = 0; i < fed.sites.size(); ++i) pos.emplace(fed.sites[i].name, i);
    return pos;
}

}  // namespace

LinkMatrix LinkMatrix::index(const Federation& fed, std::vector<LinkEstimate> links) {
    LinkMatrix m;
    const std::size_t n = fed.sites.size();
    m.n_ = n;
    if (n < 2 || links.empty()) return m;
    m.cells_.resize(n * (n - 1));
    std::vector<unsigned char> known(n * (n - 1), 0);
    // current_links() order (row-major, no diagonal) needs no hashing: checked by name per entry.
    const bool ordered = links.size() == n * (n - 1) && [&] {
        for (std::size_t i = 0, k = 0; i < n; ++i)
            for (std::size_t j = 0; j < n; ++j) {
                if (i == j) continue;
                if (links[k].from != fed.sites[i].name || links[k].to != fed.sites[j].name)
                    return false;
                ++k;
            }
        return true;
    }();
    if (ordered) {
        m.cells_ = std::move(links);
        m.figures_.assign(m.cells_.size(), Figures{});
        for (auto& f : m.figures_) f.known = true;
        m.index_figures();
        return m;
    }
    const auto pos = site_positions(fed);
    for (auto& l : links) {
        const auto f = pos.find(l.from), t = pos.find(l.to);
        if (f == pos.end() || t == pos.end() || f->second == t->second) continue;
        const std::size_t from = f->second, to = t->second;
        const std::size_t k = from * (n - 1) + (to < from ? to : to - 1);
        m.cells_[k] = std::move(l);
        known[k] = 1;
    }
    m.figures_.assign(m.cells_.size(), Figures{});
    for (std::size_t k = 0; k < known.size(); ++k) m.figures_[k].known = known[k] != 0;
    m.index_figures();
    return m;
}

void LinkMatrix::index_figures() {
    for (std::size_t k = 0; k < cells_.size(); ++k) {
        if (!figures_[k].known) continue;
        const LinkEstimate& l = cells_[k];
        figures_[k] = {l.bandwidth_bps,    l.latency_s,   l.health, l.measured, true,
                       l.queued_transfers, l.queued_bytes};
    }
}

std::vector<std::optional<SiteLoad>> index_loads(const Federation& fed,
                                                 const std::vector<SiteLoad>& loads) {
    std::vector<std::optional<SiteLoad>> out(fed.sites.size());
    if (loads.empty()) return out;
    const auto pos = site_positions(fed);
    for (const auto& l : loads) {
        // First entry per site wins, as the name scan it replaces did.
        if (const auto it = pos.find(l.site); it != pos.end() && !out[it->second])
            out[it->second] = l;
    }
    return out;
}

void PlacementInputs::index_sites() {
    site_ids.clear();
    for (std::size_t i = 0; i < federation.sites.size(); ++i)
        site_ids.emplace(federation.sites[i].name, static_cast<std::uint32_t>(i));
}

int PlacementInputs::site_index(std::string_view name) const {
    const auto& sites = federation.sites;
    if (const auto it = site_ids.find(name);
        it != site_ids.end() && it->second < sites.size() && sites[it->second].name == name)
        return static_cast<int>(it->second);
    // An index of as many sites as there are: a miss is a miss. Otherwise (inputs built by hand,
    // sites added since) the names themselves decide.
    if (!site_ids.empty() && site_ids.size() == sites.size()) return -1;
    for (std::size_t i = 0; i < sites.size(); ++i)
        if (sites[i].name == name) return static_cast<int>(i);
    return -1;
}

PlacementInputs make_inputs(Federation fed, PolicySet policies, std::vector<LinkEstimate> links,
                            const std::vector<SiteLoad>& loads) {
    PlacementInputs in;
    in.links = LinkMatrix::index(fed, std::move(links));
    in.loads = index_loads(fed, loads);
    in.federation = std::move(fed);
    in.policies = std::move(policies);
    in.index_sites();
    return in;
}

}  // namespace netplace::policies
