#include "netplace/policies/inputs.hpp"

#include <algorithm>
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

LinkMatrix LinkMatrix::index(const Federation& fed, std::vector<LinkEstimate> links, Rest rest) {
    LinkMatrix m;
    const std::size_t n = fed.sites.size();
    m.names_.reserve(n);
    for (const auto& s : fed.sites) m.names_.push_back(s.name);
    m.rows_.resize(n);
    m.rest_defaults_ = rest == Rest::defaults && n >= 2;
    LinkEstimate d;  // what current_links() makes of a pair with no figure and no measurement
    d.bandwidth_bps = fed.default_bandwidth_bps;
    d.latency_s = fed.default_latency_s;
    m.default_figures_ = figures_of(d);
    if (n < 2 || links.empty()) return m;

    // Each estimate's ends. current_links() answers row-major: the next pair's source is this
    // one's and its destination follows, so a name comparison usually finds them with no hashing.
    std::unordered_map<std::string_view, std::size_t> pos;
    const auto find = [&](const std::string& name, std::size_t guess) -> std::uint32_t {
        if (guess < n && fed.sites[guess].name == name) return static_cast<std::uint32_t>(guess);
        if (pos.empty()) pos = site_positions(fed);
        const auto it = pos.find(name);
        return it == pos.end() ? kNone : static_cast<std::uint32_t>(it->second);
    };
    std::vector<std::pair<std::uint32_t, std::uint32_t>> ends(links.size());
    std::vector<std::uint32_t> per_row(n, 0);
    std::size_t from = 0, to = 0;
    for (std::size_t k = 0; k < links.size(); ++k) {
        const std::uint32_t f = find(links[k].from, from);
        const std::uint32_t t = find(links[k].to, f == from ? to + 1 + (to + 1 == f) : 0);
        if (f == kNone || t == kNone || f == t) {
            ends[k] = {kNone, kNone};
            continue;
        }
        ends[k] = {f, t};
        ++per_row[f];
        from = f;
        to = t;
    }
    for (std::size_t i = 0; i < n; ++i) {
        if (per_row[i] * 4 >= n)
            m.rows_[i].table.assign(n, kNone);
        else
            m.rows_[i].list.reserve(per_row[i]);
    }
    m.cells_.reserve(links.size());
    for (std::size_t k = 0; k < links.size(); ++k) {
        const auto [f, t] = ends[k];
        if (f == kNone) continue;
        Row& row = m.rows_[f];
        const auto c = static_cast<std::uint32_t>(m.cells_.size());
        if (!row.table.empty()) {
            if (row.table[t] != kNone) {
                m.cells_[row.table[t]] = std::move(links[k]);  // of duplicates the last wins
                continue;
            }
            row.table[t] = c;
        } else {
            row.list.emplace_back(t, c);
        }
        m.cells_.push_back(std::move(links[k]));
    }
    for (auto& row : m.rows_) {
        auto& l = row.list;
        const auto by_to = [](const auto& x, const auto& y) { return x.first < y.first; };
        if (!std::is_sorted(l.begin(), l.end(), by_to)) std::stable_sort(l.begin(), l.end(), by_to);
        // Of duplicates the last wins (its cell was added later); the earlier cell is unused.
        std::size_t out = 0;
        for (std::size_t k = 0; k < l.size(); ++k) {
            if (out > 0 && l[out - 1].first == l[k].first)
                l[out - 1] = l[k];
            else
                l[out++] = l[k];
        }
        l.resize(out);
    }
    m.figures_.reserve(m.cells_.size());
    for (const auto& c : m.cells_) m.figures_.push_back(figures_of(c));
    return m;
}

LinkMatrix::Figures LinkMatrix::figures_of(const LinkEstimate& l) {
    return {l.bandwidth_bps,    l.latency_s,   l.health, l.measured, true,
            l.queued_transfers, l.queued_bytes};
}

// What current_links() makes of a pair with no static figure and no measurement.
LinkEstimate LinkMatrix::default_estimate(std::size_t from, std::size_t to) const {
    LinkEstimate e;
    if (from < names_.size()) e.from = names_[from];
    if (to < names_.size()) e.to = names_[to];
    e.bandwidth_bps = default_figures_.bandwidth_bps;
    e.latency_s = default_figures_.latency_s;
    e.source = "default";
    return e;
}

std::optional<LinkEstimate> LinkMatrix::get(std::size_t from, std::size_t to) const {
    if (const std::uint32_t k = cell(from, to); k != kNone) return cells_[k];
    if (rest_defaults_ && from != to && from < sites() && to < sites())
        return default_estimate(from, to);
    return std::nullopt;
}

std::uint32_t LinkMatrix::add(std::size_t from, std::size_t to, LinkEstimate e) {
    const auto c = static_cast<std::uint32_t>(cells_.size());
    figures_.push_back(figures_of(e));
    cells_.push_back(std::move(e));
    Row& row = rows_[from];
    const auto t = static_cast<std::uint32_t>(to);
    if (!row.table.empty()) {
        row.table[to] = c;
    } else {
        const auto at =
            std::lower_bound(row.list.begin(), row.list.end(), t,
                             [](const auto& x, std::uint32_t v) { return x.first < v; });
        row.list.insert(at, {t, c});
    }
    return c;
}

bool LinkMatrix::set_occupancy(std::size_t from, std::size_t to, double queued_bytes,
                               unsigned queued_transfers) {
    std::uint32_t k = cell(from, to);
    if (k == kNone) {
        if (!rest_defaults_ || from == to || from >= sites() || to >= sites()) return false;
        if (queued_transfers == 0 && !(queued_bytes > 0)) return true;  // idle, as it stands
        k = add(from, to, default_estimate(from, to));  // a default pair becomes a known one
    }
    cells_[k].queued_bytes = figures_[k].queued_bytes = queued_bytes;
    cells_[k].queued_transfers = figures_[k].queued_transfers = queued_transfers;
    return true;
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
