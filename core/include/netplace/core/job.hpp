#pragma once
// A job asking to be placed, and the engine's answer. The CLI reads JobRequest from YAML/JSON,
// the Slurm glue builds it from job options, the simulator from trace records.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace netplace {

// Slurm keeps account names in lower case (sacctmgr lowercases what it is given; a job's
// `-A Guests` is charged to `guests`), so netplace compares accounts the way Slurm does.
inline std::string slurm_account_name(std::string_view account) {
    std::string out(account);
    for (auto& c : out)
        if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    return out;
}

struct Dataset {
    std::string name;
    std::string site;  // where it lives now
    std::uint64_t bytes = 0;
    std::optional<std::string> residency;  // tag restricting where it may be read
};

struct PlacementHints {
    std::vector<std::string> allowed;  // empty = any
    std::vector<std::string> preferred;
    std::vector<std::string> avoided;
    std::optional<std::string> policy;  // named policy the user asks for
    // Weight overrides ("price" -> 0); honoured only for weights the policy lists in user_weights.
    std::vector<std::pair<std::string, double>> weights;
};

struct JobRequest {
    std::string name;
    std::string account, user, group, partition;
    unsigned nodes = 1;
    unsigned tasks = 1;
    unsigned cpus_per_task = 1;
    unsigned gpus = 0;  // total GPUs
    std::optional<std::string> gpu_type;
    std::vector<std::string> features;  // site features the job needs (Slurm --constraint)
    std::uint64_t memory_bytes = 0;     // per node
    double walltime_s = 3600;           // requested time limit
    std::optional<double> runtime_s;    // user's estimate of the real runtime at the reference site
    // Where runtime_s came from when not from the user ("predicted: ..."), for the explanation.
    std::string runtime_source;
    std::vector<Dataset> inputs;
    std::uint64_t output_bytes = 0;
    std::optional<std::string> home_site;  // where outputs go; default: the submitting site
    PlacementHints hints;

    // 64-bit: two 32-bit counts cannot overflow it (65536 x 65536 is 2^32 cores, not 0).
    std::uint64_t cores() const {
        return static_cast<std::uint64_t>(tasks) * static_cast<std::uint64_t>(cpus_per_task);
    }
};

// The parts of a site's score (weight x figure, seconds-equivalent), so an explanation can show
// why a site that finishes later may still win (price, data moved, admin penalties/bonuses).
struct ScoreTerms {
    double completion = 0;
    double transfer = 0;
    double price = 0;
    double wan = 0;
    double adjust = 0;  // penalties - bonuses (admin rules, the job's preferred sites)
};

// Every component of one site's estimate, kept for the explanation.
struct SiteEstimate {
    std::string site;
    double wait_s = 0;
    double stage_in_s = 0;
    double run_s = 0;
    double stage_out_s = 0;
    double total_s = 0;
    double price = 0;                     // currency units for the job at this site
    double score = 0;                     // what the policy minimises
    ScoreTerms terms;                     // score = sum of these
    std::optional<std::string> excluded;  // why this site may not run the job
    std::vector<std::string> notes;       // fallbacks used, bonuses applied, ...
    std::uint64_t wan_bytes = 0;          // bytes the job moves between sites if run here
    // Transfers already on the busiest link of this site's stage-in (occupancy), 0: all idle.
    unsigned link_transfers = 0;
    // Part of stage_in_s spent waiting for busy links to clear before staging in alone (the
    // policy's wait_for_link); 0: the stage-in starts now.
    double link_wait_s = 0;
    // Stage-ins read from a copy instead of the data's own site (the nearest replica): (the
    // data's site, the copy's site). Empty when every stage-in reads from the data's site.
    std::vector<std::pair<std::string, std::string>> stage_in_sources;
};

struct PlacementDecision {
    std::optional<std::string> site;  // unset: no site qualifies
    std::string cluster;
    std::string policy;
    std::vector<SiteEstimate> ranking;  // best first, excluded sites last
    // Which runtime the run term used: "requested time (walltime)", "the job's runtime
    // estimate", JobRequest::runtime_source, or "requested time x R (account ...)" from the
    // account's accounting history at this host's site (SiteLoad::runtime_ratio_by_account).
    std::string run_basis;
    std::vector<std::string> warnings;  // about this job's request
    // About the cached state (links, site load), the same for every job until the state changes:
    // a submission door shows each of these to a user once, not on every job.
    std::vector<std::string> state_warnings;
};

// Job warnings first, then state warnings: what a one-shot tool (netplace place) prints.
inline std::vector<std::string> all_warnings(const PlacementDecision& d) {
    std::vector<std::string> all = d.warnings;
    all.insert(all.end(), d.state_warnings.begin(), d.state_warnings.end());
    return all;
}

}  // namespace netplace
