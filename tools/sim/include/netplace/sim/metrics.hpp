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
};

// Nearest-rank percentile of sorted values: the ceil(p * n)-th smallest.
double percentile(const std::vector<double>& sorted, double p);

Summary summarise(const SimResult& result, const std::vector<SimJob>& jobs,
                  const Federation& federation, std::size_t bins = 100);

}  // namespace netplace::sim
