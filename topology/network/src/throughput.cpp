#include "netplace/network/throughput.hpp"

#include <algorithm>
#include <cmath>

namespace netplace::network {

void ThroughputMeter::data(double t, std::uint64_t read) {
    if (first_ || read == 0) return;
    first_ = t;
    window_start_ = t;
    first_bytes_ = read;
    window_bytes_ = read;
}

bool ThroughputMeter::window_due(double t) const {
    return window_start_ && t - *window_start_ >= rule_.window_s;
}

bool ThroughputMeter::close_window(double t, std::uint64_t arrived) {
    if (!window_start_) return stable_;
    const double span = t - *window_start_;
    last_window_bps_ =
        span > 0 ? static_cast<double>(arrived - std::min(arrived, window_bytes_)) * 8 / span : 0;
    window_bytes_ = arrived;
    ++windows_;
    window_start_ = t;
    if (windows_ == rule_.warmup_windows) {
        warm_at_ = t;
        warm_bytes_ = arrived;
    } else if (warm_at_ && t > *warm_at_) {
        const double e =
            static_cast<double>(arrived - std::min(arrived, warm_bytes_)) * 8 / (t - *warm_at_);
        estimates_.push_back(e);
        const std::size_t k = estimates_.size();
        // Stop when the estimate of `stable_windows` windows ago is within stable_change of now.
        if (k > rule_.stable_windows && e > 0 &&
            std::fabs(e - estimates_[k - 1 - rule_.stable_windows]) / e < rule_.stable_change)
            stable_ = true;
    }
    return stable_;
}

std::optional<double> ThroughputMeter::bandwidth_bps(double end, std::uint64_t arrived) const {
    if (stable_) return estimates_.back();
    if (warm_at_ && end - *warm_at_ >= 2 * rule_.window_s && arrived > warm_bytes_)
        return static_cast<double>(arrived - warm_bytes_) * 8 / (end - *warm_at_);
    // Finished within the warm-up (fast link, small cap): the whole transfer is all there is.
    if (first_ && arrived > first_bytes_ && end - *first_ > 0)
        return static_cast<double>(arrived - first_bytes_) * 8 / (end - *first_);
    // Everything arrived in one burst: the request round trip is the best time base left.
    if (arrived > 0 && end > 0) return static_cast<double>(arrived) * 8 / end;
    return std::nullopt;
}

}  // namespace netplace::network
