#pragma once
// The one loader of the engine's inputs: every door (CLI `place`, the Slurm submission path, the
// simulator) builds its PlacementInputs here, so the same files are read the same way, the same
// stale-state rule applies, and state fallbacks come back as values (never through the log).
#include "netplace/core/error.hpp"
#include "netplace/policies/inputs.hpp"

#include <exception>
#include <optional>
#include <string>

namespace netplace::network {
struct LinkState;
}
namespace netplace::data {
struct Catalog;
}

namespace netplace::policies {

// Site state older than this is not believed (sites fall back to their static waits).
inline constexpr double kDefaultMaxStateAgeS = 600;

struct InputSources {
    std::string federation;             // federation.yaml
    std::optional<std::string> policy;  // unset: the built-in presets
    // A missing policy file means the built-in presets (the Slurm plugin's `policy=` default
    // need not exist); otherwise a missing file is an error.
    bool policy_may_be_missing = false;
    std::optional<std::string> links;  // link-state file; unset: federation's probing.state_file
    std::optional<std::string> sites;  // site-state file; unset: no load known (static waits)
    double max_state_age_s = kDefaultMaxStateAgeS;
};

// Which input could not be read, so a door can say which file to fix; `cause()` is the
// loader's own exception (a ConfigError with `file:line:col`, or an Error), for doors that report
// it as they always have.
class InputError : public Error {
  public:
    enum class Part { federation, policy };
    InputError(Part part, const std::string& what, std::exception_ptr cause)
        : Error(what), part_(part), cause_(std::move(cause)) {}
    Part part() const { return part_; }
    const std::exception_ptr& cause() const { return cause_; }

  private:
    Part part_;
    std::exception_ptr cause_;
};

// Reads everything. Throws InputError for a federation or policy file that cannot be read or is
// invalid (the message is the loader's `file:line:col: ...`); never throws for link or site
// state: missing, corrupt or stale state becomes static figures plus a state warning.
PlacementInputs load_inputs(const InputSources& sources, double now_unix_s);

// This site's staging state (docs/staging.md), added once the door has read the dataset catalog:
// - link occupancy: the transfer ledger's queued and running transfers (data::link_occupancy,
//   entries updated within 2 minutes) become each link's queued_bytes / queued_transfers;
// - replica locations: the catalog's replicas beyond each dataset's home, and this site's
//   replica registry (for datasets the catalog lists), become PlacementInputs::replicas.
// - the peers' staging the exchange merged (network::peer_staging_path of `link_state`, default
//   the federation's probing.state_file), while each peer's snapshot has not expired: their
//   transfers on links into themselves add to those links' occupancy, their replicas of catalog
//   datasets (same sha256 and size) count as copies at them. Links into this site and replicas
//   here are only ever this site's own figures.
// A ledger or registry that cannot be read becomes a state warning, never an exception: the
// engine then sees idle links (today's figures) or only the catalog's replicas.
void add_staging_state(PlacementInputs& in, const data::Catalog& catalog, double now_unix_s,
                       const std::optional<std::string>& link_state = std::nullopt);

// The link half of load_inputs for a caller holding an already-read link state (the simulator
// merges JSON and CSV matrices and replays "as of" the state's time): every ordered site pair,
// measured when fresh, else static, else default.
LinkMatrix link_matrix(const Federation& fed, const network::LinkState* state, double at_unix_s);

}  // namespace netplace::policies
