#pragma once
// Placement policies the simulator can replay: the built-in baselines, and every netplace
// policy through the placement engine itself (the same code `netplace place` runs).
#include "netplace/core/site.hpp"
#include "netplace/policies/inputs.hpp"
#include "netplace/sim/simulator.hpp"

#include <memory>
#include <string>
#include <vector>

namespace netplace::sim {

struct PlacerContext {
    const Federation* federation = nullptr;
    policies::LinkMatrix links;  // what the engine is told about the links (policies::link_matrix)
    std::uint64_t seed = 1;
    std::vector<std::string> policy_files;  // YAML policy files for netplace policies
    // Residency tag of the data at each site (federation order; "" = untagged), from the data
    // model: netplace policies pass it to the engine like every other door.
    std::vector<std::string> site_residency;
    // What netplace policies see beyond a submission's own request (docs/sim.md):
    bool occupancy = true;        // each link's transfers now (LinkEstimate::queued_*)
    bool predict_runtime = true;  // runtime_s from the user's history, runtime_ratio per site
};

// local, random, round-robin, least-loaded, earliest-start, data-local.
const std::vector<std::string>& baseline_names();
// Netplace policies the engine knows (built-in presets and those in ctx.policy_files); empty
// when the engine is not built in.
std::vector<std::string> engine_policy_names(const PlacerContext& ctx);
// Throws ConfigError naming the known policies when `name` is none of them.
std::unique_ptr<Placer> make_placer(const std::string& name, const PlacerContext& ctx);

}  // namespace netplace::sim
