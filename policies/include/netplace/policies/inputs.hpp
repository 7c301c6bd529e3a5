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

// The best link estimate for every ordered pair of a federation's sites, by site index.
class LinkMatrix {
  public:
    LinkMatrix() = default;
    // Places each estimate at its (from, to) site indices; estimates naming a site outside
    // `fed` or a site to itself are dropped; of duplicates the last wins.
    static LinkMatrix index(const Federation& fed, std::vector<LinkEstimate> links);

    std::size_t sites() const { return n_; }
    bool empty() const { return cells_.empty(); }
    // nullptr: from == to, or nothing known about the pair.
    const LinkEstimate* get(std::size_t from, std::size_t to) const {
        const std::size_t k = cell(from, to);
        return k != npos && figures_[k].known ? &cells_[k] : nullptr;
    }

    // What the engine reads per decision (sites x source sites times): the figures alone, 24
    // bytes a pair, so a 100-site matrix stays in cache (a LinkEstimate with its strings is ~9x
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
    // nullptr: from == to, or nothing known about the pair. `estimate` (optional) receives the
    // full entry's address, without reading it.
    const Figures* figures(std::size_t from, std::size_t to,
                           const LinkEstimate** estimate = nullptr) const {
        const std::size_t k = cell(from, to);
        if (k == npos || !figures_[k].known) return nullptr;
        if (estimate) *estimate = &cells_[k];
        return &figures_[k];
    }
    // Sets a known link's occupancy (the estimate and the engine's figures alike), as a caller
    // that owns the inputs does between decisions (the simulator) or after loading them (the
    // staging ledger). False: nothing known about the pair, nothing set.
    bool set_occupancy(std::size_t from, std::size_t to, double queued_bytes,
                       unsigned queued_transfers) {
        const std::size_t k = cell(from, to);
        if (k == npos || !figures_[k].known) return false;
        cells_[k].queued_bytes = figures_[k].queued_bytes = queued_bytes;
        cells_[k].queued_transfers = figures_[k].queued_transfers = queued_transfers;
        return true;
    }

  private:
    static constexpr std::size_t npos = static_cast<std::size_t>(-1);
    std::size_t cell(std::size_t from, std::size_t to) const {
        if (from == to || from >= n_ || to >= n_ || cells_.empty()) return npos;
        return from * (n_ - 1) + (to < from ? to : to - 1);
    }
    void index_figures();

    std::size_t n_ = 0;
    std::vector<LinkEstimate> cells_;  // row-major without the diagonal: n * (n - 1)
    std::vector<Figures> figures_;     // parallel to cells_
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
