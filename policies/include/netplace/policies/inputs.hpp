#pragma once
// Everything the placement engine reads besides the job, as one value: the federation, the
// policy set, and the cached state indexed by the federation's site order (links as an n x n
// matrix, loads one slot per site), plus what went wrong reading that state, as values.
//
// Built by load_inputs() (load_inputs.hpp) on every door (CLI `place`, the Slurm submission path,
// the simulator), so the engine never guesses an order or matches names per decision. Adding an
// input (link occupancy, replica locations, ...): a site-indexed field here, filled in
// load_inputs.cpp, read by a named step or check in engine_steps.hpp.
#include "netplace/core/site.hpp"
#include "netplace/policies/policy.hpp"

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace netplace::policies {

// The best link estimate for the ordered pairs of a federation's sites, by site index. Stored per
// source site: a row with many known pairs is a table by destination (one load per lookup, as the
// engine reads a source's row for every candidate), a row with few is a sorted list; memory
// follows the pairs known, never n(n-1) (a 10,000-site federation has 10^8 pairs).
class LinkMatrix {
  public:
    // What a pair that index() was not given stands for.
    enum class Rest {
        unknown,   // nothing known: get()/figures() answer nothing (the engine's defaults apply)
        defaults,  // the federation's default figures, source "default", as current_links()'s
                   // `known` answer means it (network::LinkPairs::known)
    };
    LinkMatrix() = default;
    // Places each estimate at its (from, to) site indices; estimates naming a site outside
    // `fed` or a site to itself are dropped; of duplicates the last wins.
    static LinkMatrix index(const Federation& fed, std::vector<LinkEstimate> links,
                            Rest rest = Rest::unknown);

    std::size_t sites() const { return names_.size(); }
    bool empty() const { return cells_.empty() && !rest_defaults_; }
    // Pairs held as estimates (those given to index(), and default pairs set_occupancy() made
    // busy): what the matrix's memory follows.
    std::size_t stored() const { return cells_.size(); }
    // The pair's estimate; nothing when from == to, or nothing is known about the pair.
    std::optional<LinkEstimate> get(std::size_t from, std::size_t to) const;

    // What the engine reads per decision (sites x source sites times): the figures alone, 40
    // bytes a pair, so a 100-site matrix stays in cache (a LinkEstimate with its strings is ~5x
    // larger, and the engine touched one cache line per pair).
    struct Figures {
        double bandwidth_bps = 0;
        double latency_s = 0;
        LinkHealth health = LinkHealth::unknown;
        bool measured = false;
        bool known = false;             // false: nothing known about the pair
        unsigned queued_transfers = 0;  // occupancy (LinkEstimate::queued_*), 0: idle
        double queued_bytes = 0;
    };
    // nullptr: from == to, or nothing known about the pair.
    const Figures* figures(std::size_t from, std::size_t to) const {
        const std::uint32_t k = cell(from, to);
        if (k != kNone) return &figures_[k];
        return rest_defaults_ && from != to && from < sites() && to < sites() ? &default_figures_
                                                                              : nullptr;
    }
    // Sets a known link's occupancy (the estimate and the engine's figures alike), as a caller
    // that owns the inputs does between decisions (the simulator) or after loading them (the
    // staging ledger). False: nothing known about the pair, nothing set.
    bool set_occupancy(std::size_t from, std::size_t to, double queued_bytes,
                       unsigned queued_transfers);

  private:
    static constexpr std::uint32_t kNone = static_cast<std::uint32_t>(-1);
    // One source site's known pairs: `table` (by destination, kNone: not known) when the row
    // holds at least a quarter of the federation, else `list` ((destination, cell), sorted).
    struct Row {
        std::vector<std::uint32_t> table;
        std::vector<std::pair<std::uint32_t, std::uint32_t>> list;
    };
    std::uint32_t cell(std::size_t from, std::size_t to) const {
        if (from >= rows_.size() || to >= names_.size() || from == to) return kNone;
        const Row& r = rows_[from];
        if (!r.table.empty()) return r.table[to];
        const auto it =
            std::lower_bound(r.list.begin(), r.list.end(), static_cast<std::uint32_t>(to),
                             [](const std::pair<std::uint32_t, std::uint32_t>& x, std::uint32_t t) {
                                 return x.first < t;
                             });
        return it != r.list.end() && it->first == to ? it->second : kNone;
    }
    // Adds a cell for (from, to), which has none; returns its index.
    std::uint32_t add(std::size_t from, std::size_t to, LinkEstimate e);
    static Figures figures_of(const LinkEstimate& l);
    LinkEstimate default_estimate(std::size_t from, std::size_t to) const;

    std::vector<std::string> names_;   // the federation's site names, by index
    std::vector<LinkEstimate> cells_;  // the known pairs, in no particular order
    std::vector<Figures> figures_;     // parallel to cells_
    std::vector<Row> rows_;            // by source site
    bool rest_defaults_ = false;
    Figures default_figures_;  // the federation's defaults, what default_estimate() answers
};

struct PlacementInputs {
    Federation federation;
    PolicySet policies;
    LinkMatrix links;
    std::vector<std::optional<SiteLoad>> loads;  // federation.sites order; nullopt: unknown
    // Sites (indices) holding a verified copy of a dataset besides the site the job's request
    // names for it, by dataset name: the catalog's replicas and this site's replica registry in
    // production, the replay's caches in the simulator. A dataset with a copy at a site costs no
    // stage-in there. Empty: every dataset only where the request says.
    std::map<std::string, std::vector<std::uint32_t>, std::less<>> replicas;
    // State fallbacks met while loading (missing, corrupt, stale files): the same for every job
    // until fixed; every decision carries them in PlacementDecision::state_warnings.
    std::vector<std::string> state_warnings;

    // Federation site names to their indices (index_sites(), which make_inputs and load_inputs
    // call): the engine resolves the site names a job and its policy list once per decision
    // instead of comparing every site's name with every list.
    std::map<std::string, std::uint32_t, std::less<>> site_ids;

    const SiteLoad* load(std::size_t site) const {
        return site < loads.size() && loads[site] ? &*loads[site] : nullptr;
    }
    void index_sites();
    // Index of the site named `name` in federation.sites, -1: none. Correct also when site_ids
    // was never built or the federation changed since (it then scans the sites).
    int site_index(std::string_view name) const;
};

// Site-indexes named state for `fed`: links by (from, to), loads by site; entries naming no site
// of `fed` are dropped. The one place names become indices (tests and tools with in-memory
// state use it; load_inputs() does for files).
PlacementInputs make_inputs(Federation fed, PolicySet policies, std::vector<LinkEstimate> links,
                            const std::vector<SiteLoad>& loads);

// Site loads, site-indexed (what make_inputs does with `loads`).
std::vector<std::optional<SiteLoad>> index_loads(const Federation& fed,
                                                 const std::vector<SiteLoad>& loads);

}  // namespace netplace::policies
