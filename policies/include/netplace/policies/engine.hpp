#pragma once
// The placement engine: a pure function of (job, inputs: federation, policies, links, site load).
// No I/O, no clock: the CLI, the Slurm glue and the simulator call it and get the same answer
// for the same inputs. The cost model is documented in docs/policies.md.
#include "netplace/core/job.hpp"
#include "netplace/core/site.hpp"
#include "netplace/policies/inputs.hpp"
#include "netplace/policies/policy.hpp"

#include <cstdint>
#include <limits>

namespace netplace::policies {

// Ranks every site of `in.federation` for `job`. Every site appears in the ranking with every
// cost component; eligible sites first (lowest score, then lowest total, then name), excluded
// sites after them in federation order, each with the reason(s). `decision.site` is unset when no
// site qualifies. Never throws for data it can judge (unknown sites, missing links or load fall
// back and say so in notes/warnings); `in.state_warnings` become the decision's state warnings.
// The steps it runs are in engine_steps.hpp.
PlacementDecision place(const JobRequest& job, const PlacementInputs& in);

// Estimated queue wait (seconds) for a job needing `cores` cores and `gpus` GPUs at `site`:
//   no load known  -> site.static_wait_s, else 0;
//   otherwise      -> max(cpu, gpu) with, for cores (GPUs alike, using pending_gpu_seconds):
//     backlog = pending_core_seconds / cores_total           (work queued ahead, FCFS)
//     drain   = 0 when the free cores suffice, else
//               mean_left * min(1, (need - free) / busy)     (running work frees cores linearly)
//     where mean_left = running_core_seconds_left / busy cores;
//   times load->runtime_ratio when it is in (0, 1) (jobs there use that share of their limits).
// The simulator uses the same function for the load view it hands the engine.
double estimate_wait_s(std::uint64_t cores, unsigned gpus, const Site& site, const SiteLoad* load);

// Time to move `bytes` over one link: latency + bytes * 8 / bandwidth. Infinite when the link
// has no bandwidth. Inline: the engine calls it (sites x source sites) times per decision.
inline double transfer_s(std::uint64_t bytes, double bandwidth_bps, double latency_s) {
    if (bytes == 0) return 0;
    if (!(bandwidth_bps > 0)) return std::numeric_limits<double>::infinity();
    return latency_s + static_cast<double>(bytes) * 8.0 / bandwidth_bps;
}

// Stage-in over one link given what is already on it (`link` may be null: no figures): the
// unshared transfer_s when the link carries nothing, else the processor-sharing estimate of
// core/link_sharing.hpp with the link's queued_bytes / queued_transfers (docs/policies.md).
double stage_in_estimate_s(std::uint64_t bytes, const LinkEstimate* link, double bandwidth_bps,
                           double latency_s);

}  // namespace netplace::policies
