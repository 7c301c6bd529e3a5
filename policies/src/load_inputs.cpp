#include "netplace/policies/load_inputs.hpp"

#include "netplace/core/file.hpp"
#include "netplace/core/units.hpp"
#include "netplace/data/catalog.hpp"
#include "netplace/data/ledger.hpp"
#include "netplace/data/replicas.hpp"
#include "netplace/network/exchange.hpp"
#include "netplace/network/federation.hpp"
#include "netplace/network/importers.hpp"
#include "netplace/network/link_state.hpp"
#include "netplace/policies/site_state.hpp"

#include <fmt/format.h>

#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <map>
#include <utility>

namespace netplace::policies {
namespace {

bool exists(const std::string& path) {
    struct stat st {};
    return ::stat(path.c_str(), &st) == 0;
}

// A staging state file as placement believes it, by the link state's rule (file::read_trusted:
// no symlink, not world-writable, owned by root, the caller or its directory's owner); "" when
// it does not exist (nothing staged yet).
std::string read_staging_state(const std::string& path) {
    struct stat st {};
    if (::lstat(path.c_str(), &st) != 0 && errno == ENOENT) return {};
    return file::read_trusted(path, limits::Cap::state_file);
}

// Placement reads only the pairs something is known about; the matrix stands in the federation's
// defaults for the rest, so memory follows the pairs known, not n(n-1).
constexpr auto kKnown = network::LinkPairs::known;

}  // namespace

LinkMatrix link_matrix(const Federation& fed, const network::LinkState* state, double at_unix_s) {
    return LinkMatrix::index(fed, network::current_links(fed, state, at_unix_s, kKnown),
                             LinkMatrix::Rest::defaults);
}

PlacementInputs load_inputs(const InputSources& src, double now) {
    PlacementInputs in;
    try {
        in.federation = network::load_federation(src.federation);
    } catch (const std::exception& e) {
        throw InputError(InputError::Part::federation, e.what(), std::current_exception());
    }
    try {
        if (!src.policy || (src.policy_may_be_missing && !exists(*src.policy)))
            in.policies = PolicySet::builtin();
        else
            in.policies = PolicySet::load_file(*src.policy);
    } catch (const std::exception& e) {
        throw InputError(InputError::Part::policy, e.what(), std::current_exception());
    }
    in.index_sites();
    const Federation& fed = in.federation;

    // The same link-state file the probe daemon writes, unless the caller names another.
    const std::string& link_path = src.links ? *src.links : fed.probing.state_file;
    if (network::is_csv_matrix(link_path)) {
        // A measured matrix the caller names (`place --links grid.csv`, as `sim` takes): its
        // figures count as measured now. Unusable, it is what a bad state file is: static figures.
        network::LinkState st;
        st.federation = fed.name;
        try {
            const auto r = network::import_csv_file(link_path, fed, now);
            network::apply_imports(st, r, fed.probing);
            if (r.samples.empty())
                in.state_warnings.push_back(fmt::format(
                    "{}: no row maps to a pair of this federation's sites ({} skipped): static "
                    "link figures",
                    link_path, r.notes.size()));
        } catch (const std::exception& e) {
            in.state_warnings.push_back(
                fmt::format("cannot use link matrix: {}; using static link figures", e.what()));
        }
        in.links = LinkMatrix::index(fed, network::current_links(fed, &st, now, kKnown),
                                     LinkMatrix::Rest::defaults);
    } else {
        in.links = LinkMatrix::index(
            fed, network::current_links(fed, link_path, now, &in.state_warnings, kKnown),
            LinkMatrix::Rest::defaults);
    }

    if (src.sites) {
        auto loads = read_site_state(*src.sites, now, &in.state_warnings);
        const auto before = loads.size();
        std::erase_if(loads,
                      [&](const SiteLoad& l) { return l.age_s && *l.age_s > src.max_state_age_s; });
        if (loads.size() < before) {
            in.state_warnings.push_back(
                fmt::format("site state older than {} for {} site(s): static queue waits",
                            units::format_duration(src.max_state_age_s), before - loads.size()));
        }
        in.loads = index_loads(fed, loads);
    } else {
        in.loads.assign(fed.sites.size(), std::nullopt);
    }
    return in;
}

void add_staging_state(PlacementInputs& in, const data::Catalog& catalog, double now,
                       const std::optional<std::string>& link_state) {
    const Federation& fed = in.federation;
    auto index = [&](const std::string& name) -> int {
        for (std::size_t i = 0; i < fed.sites.size(); ++i)
            if (fed.sites[i].name == name) return static_cast<int>(i);
        return -1;
    };
    auto add_copy = [&](const std::string& dataset, int site) {
        if (site < 0) return;
        auto& sites = in.replicas[dataset];
        const auto s = static_cast<std::uint32_t>(site);
        if (std::find(sites.begin(), sites.end(), s) == sites.end()) sites.push_back(s);
    };
    // The catalog's first replica is the dataset's home, where the job's request already says
    // the data lives; the others are copies.
    for (const auto& d : catalog.datasets)
        for (std::size_t r = 1; r < d.replicas.size(); ++r)
            add_copy(d.name, index(d.replicas[r].site));
    const std::string reg_path = catalog.staging.replicas_path();
    try {
        // Only datasets the catalog lists: a user-declared dataset of the same name is not ours.
        const std::string text = read_staging_state(reg_path);
        const data::ReplicaList list =
            text.empty() ? data::ReplicaList{} : data::parse_replicas(text, reg_path);
        for (const auto& r : list.replicas)
            if (catalog.find(r.dataset)) add_copy(r.dataset, index(r.site));
    } catch (const std::exception& e) {
        in.state_warnings.push_back(fmt::format(
            "replica registry not read ({}): only the catalog's replicas count", e.what()));
    }
    // Per directed link: bytes still to move and transfers sharing it, summed over this site's
    // ledger and the peers' published ledgers (distinct transfers: each site records the ones it
    // runs, a stage-in at the site it arrives at).
    std::map<std::pair<int, int>, std::pair<double, unsigned>> occupancy;
    const std::string ledger_path = catalog.staging.ledger_path();
    try {
        const std::string text = read_staging_state(ledger_path);
        const data::Ledger ledger =
            text.empty() ? data::Ledger{} : data::parse_ledger(text, ledger_path);
        for (const auto& o : data::link_occupancy(ledger, now)) {
            const int from = index(o.from), to = index(o.to);
            if (from < 0 || to < 0) continue;
            auto& x = occupancy[{from, to}];
            x.first += static_cast<double>(o.bytes_left);
            x.second += o.transfers;
        }
    } catch (const std::exception& e) {
        in.state_warnings.push_back(
            fmt::format("transfer ledger not read ({}): links taken as idle", e.what()));
    }
    // Peers' staging from their signed snapshots (the exchange verified and merged them): a peer
    // is authoritative for the links into itself and the replicas it holds; the own site's
    // figures are only ever this site's own (the exchange never takes a peer's word on them).
    const std::string peer_path =
        network::peer_staging_path(link_state ? *link_state : fed.probing.state_file);
    try {
        for (const auto& p : network::read_peer_staging(peer_path).sites) {
            const int site = index(p.site);
            if (site < 0 || p.site == fed.local_site || p.expires_at < now) continue;
            for (const auto& t : p.share.transfers) {
                const int from = index(t.from);
                if (t.to != p.site || from < 0 || from == site) continue;
                auto& x = occupancy[{from, site}];
                x.first += static_cast<double>(t.bytes_left);
                ++x.second;
            }
            for (const auto& r : p.share.replicas) {
                // The catalog's dataset, byte for byte: a copy of something else is no copy.
                const data::CatalogDataset* d = catalog.find(r.dataset);
                if (d && d->sha256 == r.sha256 && d->bytes == r.bytes) add_copy(r.dataset, site);
            }
        }
    } catch (const std::exception& e) {
        in.state_warnings.push_back(fmt::format(
            "peers' staging not read ({}): only this site's transfers and replicas count",
            e.what()));
    }
    for (const auto& [link, x] : occupancy)
        in.links.set_occupancy(static_cast<std::size_t>(link.first),
                               static_cast<std::size_t>(link.second), x.first, x.second);
}

}  // namespace netplace::policies
