#include "netplace/policies/load_inputs.hpp"

#include "netplace/core/units.hpp"
#include "netplace/network/federation.hpp"
#include "netplace/network/link_state.hpp"
#include "netplace/policies/site_state.hpp"

#include <fmt/format.h>

#include <sys/stat.h>

#include <algorithm>

namespace netplace::policies {
namespace {

bool exists(const std::string& path) {
    struct stat st {};
    return ::stat(path.c_str(), &st) == 0;
}

}  // namespace

LinkMatrix link_matrix(const Federation& fed, const network::LinkState* state, double at_unix_s) {
    return LinkMatrix::index(fed, network::current_links(fed, state, at_unix_s));
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
    const Federation& fed = in.federation;

    // The same link-state file the probe daemon writes, unless the caller names another.
    const std::string& link_path = src.links ? *src.links : fed.probing.state_file;
    in.links =
        LinkMatrix::index(fed, network::current_links(fed, link_path, now, &in.state_warnings));

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

}  // namespace netplace::policies
