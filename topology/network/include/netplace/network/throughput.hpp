#pragma once
// The bandwidth probe's arithmetic without the transfers: when the estimate is stable enough to
// stop, and which figure the probe reports. probe_bandwidth() feeds it byte counts and times;
// tests feed it synthetic streams. Times are seconds since the transfers were launched.
#include <cstdint>
#include <optional>
#include <vector>

namespace netplace::network {

class ThroughputMeter {
  public:
    // Throughput is sampled in windows of `window_s`; the first `warmup_windows` after the first
    // byte are ignored (slow start, token-bucket burst); the estimate is stable once at least
    // `stable_windows` more windows moved it by less than `stable_change` (a fraction).
    struct Rule {
        double window_s = 0.05;
        unsigned warmup_windows = 4;
        unsigned stable_windows = 20;
        double stable_change = 0.01;
    };
    explicit ThroughputMeter(Rule rule) : rule_(rule) {}

    // `read`: bytes handed over so far; the first call with bytes starts the first window.
    void data(double t, std::uint64_t read);
    // A window ended at `t`: the caller then closes it with the bytes arrived so far (read plus
    // what still waits in the kernel), which costs a system call per stream.
    bool window_due(double t) const;
    // Returns whether the estimate is now stable (the probe may stop).
    bool close_window(double t, std::uint64_t arrived);

    bool stable() const { return stable_; }
    unsigned windows() const { return windows_; }
    double last_window_bps() const { return last_window_bps_; }
    // The probe's figure (bit/s) for a transfer that ended at `end` with `arrived` bytes: the
    // stable estimate; else the post-warm-up average when at least two windows long; else the
    // average since the first byte; else (one burst) since launch. nullopt: nothing arrived.
    std::optional<double> bandwidth_bps(double end, std::uint64_t arrived) const;

  private:
    Rule rule_;
    std::optional<double> first_, window_start_, warm_at_;
    std::uint64_t first_bytes_ = 0, window_bytes_ = 0, warm_bytes_ = 0;
    unsigned windows_ = 0;
    double last_window_bps_ = 0;
    std::vector<double> estimates_;  // running post-warm-up estimate after each window
    bool stable_ = false;
};

}  // namespace netplace::network
