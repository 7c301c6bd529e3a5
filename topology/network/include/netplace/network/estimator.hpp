#pragma once
// Turns samples into a link's smoothed figures and health. Robust to outliers: the median of the
// last few samples feeds an EWMA, so one odd probe neither moves the estimate much nor gets
// forgotten slowly. A slow EWMA of the same medians is the link's "usual" figure; falling below
// probing.degraded_fraction of it makes the link `degraded`.
#include "netplace/network/link_state.hpp"

#include <optional>
#include <string>

namespace netplace::network {

inline constexpr size_t kRecentSamples = 5;  // median window
inline constexpr double kEwmaAlpha = 0.5;    // weight of the newest median
inline constexpr double kUsualAlpha = 0.05;  // "usual" adapts over ~20 samples
inline constexpr unsigned kMinSamplesForDegraded = 3;

struct Sample {
    double at = 0;  // unix seconds
    std::optional<double> bandwidth_bps;
    std::optional<double> latency_s;
    std::optional<double> jitter_s;
    std::uint64_t bytes = 0;  // spent on the wire (budget)
    std::string source = "probe";
};

// Folds a successful measurement into the record and re-judges its health.
void record_success(LinkRecord& r, const Sample& s, const ProbeSettings& p);
// Counts a failure; `failures_down` in a row make the link `down`.
void record_failure(LinkRecord& r, double at, const std::string& error, const ProbeSettings& p,
                    std::uint64_t bytes = 0);
// Health as of `now` (turns `stale` when the last success is older than max_age).
LinkHealth judge(const LinkRecord& r, const ProbeSettings& p, double now);
// Adds bytes to the record's daily budget, starting a new UTC day when needed.
void charge_bytes(LinkRecord& r, std::uint64_t bytes, double now);
double utc_day_start(double now);

}  // namespace netplace::network
