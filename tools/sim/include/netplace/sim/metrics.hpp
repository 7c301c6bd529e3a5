#pragma once
// Per-policy figures from a simulation: waits, turnaround, bounded slowdown, makespan, data
// moved, per-site utilisation (overall and over time).
#include "netplace/core/site.hpp"
#include "netplace/sim/simulator.hpp"

#include <cstdint>
#include <string>
#include <vector>

namespace netplace::sim {

constexpr double kSlowdownBound = 10.0;  // tau of the bounded slowdown, seconds

struct SiteUsage {
    std::string site;
    std::size_t jobs = 0;
    double utilisation = 0;      // busy core-seconds / (cores x makespan)
    std::vector<double> series;  // utilisation per time bin, 0..1
};

// The busiest directed links of a run, for the occupancy chart.
struct LinkUsage {
    std::string from, to;
    std::uint64_t bytes = 0;
    double busy_s = 0;           // transfer-seconds (sum of transfer durations)
    std::vector<double> series;  // mean number of concurrent transfers per time bin
};

struct Summary {
    std::string policy;
    std::size_t jobs = 0, placed = 0, rejected = 0;
    // wait = start - submit (stage-in included); turnaround = done - submit (stage-out included)
    double mean_wait_s = 0, median_wait_s = 0, p95_wait_s = 0;
    double mean_turnaround_s = 0, median_turnaround_s = 0, p95_turnaround_s = 0;
    double mean_bounded_slowdown = 0;  // max(1, turnaround / max(run, tau))
    double makespan_s = 0;             // last done - first submit
    std::uint64_t wan_bytes = 0;
    double transfer_s = 0;  // sum of stage-in and stage-out times
    double mean_stage_in_s = 0;
    std::size_t jobs_moved = 0;  // placed away from their home site
    std::vector<SiteUsage> sites;
    double series_step_s = 0;         // width of one utilisation bin
    std::vector<double> turnarounds;  // sorted, for CDFs
    std::size_t events = 0;
    // Lower bound (job_bounds) averaged over the placed jobs, and mean turnaround / that mean;
    // 0 when no bounds were given.
    double mean_bound_s = 0;
    double turnaround_over_bound = 0;
    std::vector<LinkUsage> links;  // the 10 links with the most transfer-seconds, busiest first
    std::size_t replica_reads = 0, replica_fetches = 0;
};

// Per job, a lower bound on its turnaround under any policy: no queue wait, the site (among
// those whose capacity holds the job) minimising unshared stage-in + run + unshared stage-out.
// Stage-in as the simulator moves data with nothing else on the links: inputs from one source
// site share its link (latency + their bytes x 8 / bandwidth), sources in parallel, inputs
// already at the site read at the intra-site bandwidth; stage-out: output back home. Replicas
// are not counted (a job reading a cached replica can beat its bound). Infinity for a job no
// site holds.
std::vector<double> job_bounds(const std::vector<SimJob>& jobs, const Federation& federation,
                               const Network& network);

// Nearest-rank percentile of sorted values: the ceil(p * n)-th smallest.
double percentile(const std::vector<double>& sorted, double p);

// `bounds` (job_bounds, one per job) adds mean_bound_s and turnaround_over_bound.
Summary summarise(const SimResult& result, const std::vector<SimJob>& jobs,
                  const Federation& federation, std::size_t bins = 100,
                  const std::vector<double>* bounds = nullptr);

}  // namespace netplace::sim
