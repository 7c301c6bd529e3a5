#pragma once
// Placement at submission: what the cli_filter door (Lua module or `netplace slurm decide`) does
// with one sbatch/srun/salloc: options in (slurm.json_cli_options() JSON), a cluster out.
// Reads only local cached state (federation, policy, links.json, sites.json), never the network.
#include "netplace/core/job.hpp"
#include "netplace/slurm/config.hpp"
#include "netplace/slurm/options.hpp"

#include <optional>
#include <string>
#include <vector>

namespace netplace::slurm {

struct SubmitOutcome {
    enum class Action {
        none,    // leave the submission as it is (Slurm decides, or the user's own -M)
        steer,   // set options["clusters"] = clusters
        refuse,  // fail the submission with `message`
        // `site` is an independent centre (access: rest): the cli_filter door hands the job to
        // netplace_rest.forward (rest.hpp) instead of submitting it here.
        forward,
    };
    Action action = Action::none;
    std::string clusters;                // for steer; empty: the chosen site is the local cluster
    std::string site;                    // chosen site, when the engine chose one
    std::string reason;                  // compact, for SLURM_SPANK_NETPLACE_REASON
    std::string message;                 // for refuse
    std::optional<std::string> explain;  // per-site table when --place-explain
    std::vector<std::string> warnings;   // about this submission; shown on the submitter's stderr
    // State fallbacks (missing/stale/corrupt links.json or sites.json, unmeasured links): the same
    // for every job until fixed, so the Lua door shows each once per user (warn_once.hpp).
    std::vector<std::string> state_warnings;
    bool user_clusters = false;  // the user gave -M (then Slurm's -M path must carry the choice)
    // forward: whether the home site may run this job too (on_forward_failure: home needs it),
    // and the home cluster to put back when the user's -M named the centre.
    bool home_allowed = false;
    std::string home_cluster;
    // `#BB_LUA ...` directive when the chosen site lacks a catalog dataset the job reads: the
    // site's burst_buffer.lua stages it in before the job starts (merged with the user's --bb).
    std::string bb;
};

// The job as the engine sees it, from cli_filter's option JSON (ntasks, nodes, cpus-per-task,
// gpus*, mem*, time, account, partition, job-name) and the parsed --place-* options.
JobRequest job_from_cli_json(const std::string& cli_json, const UserOptions& opts);

// One submission as the cli_filter door hands it over (slurm.json_cli_options()), parsed once.
struct Submission {
    UserOptions opts;                     // --place-* options, then their NETPLACE_* variables
    JobRequest job;                       // size, account, partition, ... and the hints from `opts`
    std::optional<std::string> clusters;  // the user's -M, as given
    // The one answer to "does netplace decide for this job": an option that asks for placement
    // (OptionSpec::asks_placement, or its variable), or a -M to check against the policy.
    bool wants_netplace() const { return opts.wants_placement() || clusters.has_value(); }
    // Only a -M to check: state fallbacks do not concern the user then.
    bool only_checks_clusters() const { return !opts.wants_placement(); }
};
// Throws netplace::Error for options that are not a JSON object or a bad --place-* value or
// NETPLACE_* variable (the submission is refused with that message).
Submission parse_submission(const std::string& cli_json, const GetEnv& getenv);

// The whole decision. Bad --place-* values or a request no site may run → refuse; missing,
// stale or corrupt state and unreadable federation/policy files → fall back (static figures, or
// Slurm's own choice) with a warning, never refuse. Never throws.
SubmitOutcome decide_submission(const std::string& cli_json, const PluginConfig& config,
                                const GetEnv& getenv, double now_unix_s);

// Reads the plugin's plugstack.conf arguments for `slurm_conf` (default: $SLURM_CONF or
// /etc/slurm/slurm.conf). nullopt: netplace is not in plugstack.conf. Throws for bad arguments.
std::optional<PluginConfig> config_for(const std::string& slurm_conf);

// The ranked per-site explanation printed for --place-explain.
std::string explain_table(const PlacementDecision& decision);

}  // namespace netplace::slurm
