#include "netplace/network/estimator.hpp"

#include "netplace/network/probe.hpp"

#include <cmath>

namespace netplace::network {
namespace {

void push_bounded(std::vector<double>& v, double x) {
    v.push_back(x);
    if (v.size() > kRecentSamples)
        v.erase(v.begin(), v.end() - static_cast<std::ptrdiff_t>(kRecentSamples));
}

double ewma(const std::optional<double>& old, double x, double alpha) {
    return old ? alpha * x + (1 - alpha) * *old : x;
}

}  // namespace

double utc_day_start(double now) { return std::floor(now / 86400.0) * 86400.0; }

void charge_bytes(LinkRecord& r, std::uint64_t bytes, double now) {
    const double day = utc_day_start(now);
    if (r.budget_day != day) {
        r.budget_day = day;
        r.bytes_today = 0;
    }
    r.bytes_today += bytes;
}

void record_success(LinkRecord& r, const Sample& s, const ProbeSettings& p) {
    r.source = s.source;
    r.last_attempt = s.at;
    r.last_success = s.at;
    r.last_error.reset();
    r.consecutive_failures = 0;
    r.samples += 1;
    charge_bytes(r, s.bytes, s.at);
    if (s.bandwidth_bps && *s.bandwidth_bps == 0) {
        // Measured, and nothing moved (an import saying 0 bit/s): the link is down until a
        // positive sample arrives, never quietly replaced by the static figure.
        r.recent_bps.clear();
        r.bandwidth_bps = 0.0;
    } else if (s.bandwidth_bps && *s.bandwidth_bps > 0 && std::isfinite(*s.bandwidth_bps)) {
        push_bounded(r.recent_bps, *s.bandwidth_bps);
        const double m = median(r.recent_bps);
        // After a measured 0 the average restarts: an EWMA from 0 would call a recovered link
        // slow for many cycles.
        r.bandwidth_bps =
            r.bandwidth_bps && *r.bandwidth_bps > 0 ? ewma(r.bandwidth_bps, m, kEwmaAlpha) : m;
        r.usual_bandwidth_bps = ewma(r.usual_bandwidth_bps, m, kUsualAlpha);
    }
    if (s.latency_s && *s.latency_s >= 0 && std::isfinite(*s.latency_s)) {
        push_bounded(r.recent_latency_s, *s.latency_s);
        r.latency_s = ewma(r.latency_s, median(r.recent_latency_s), kEwmaAlpha);
    }
    if (s.jitter_s && std::isfinite(*s.jitter_s))
        r.jitter_s = ewma(r.jitter_s, *s.jitter_s, kEwmaAlpha);
    r.health = judge(r, p, s.at);
}

void record_failure(LinkRecord& r, double at, const std::string& error, const ProbeSettings& p,
                    std::uint64_t bytes) {
    r.last_attempt = at;
    r.last_error = error;
    r.consecutive_failures += 1;
    charge_bytes(r, bytes, at);
    r.health = judge(r, p, at);
}

LinkHealth judge(const LinkRecord& r, const ProbeSettings& p, double now) {
    if (r.consecutive_failures >= p.failures_down) return LinkHealth::down;
    if (!r.last_success) return LinkHealth::unknown;
    if (now - *r.last_success > p.max_age_s) return LinkHealth::stale;
    if (r.bandwidth_bps && *r.bandwidth_bps <= 0) return LinkHealth::down;  // measured 0 bit/s
    if (r.bandwidth_bps && r.usual_bandwidth_bps && r.recent_bps.size() >= kMinSamplesForDegraded &&
        *r.bandwidth_bps < p.degraded_fraction * *r.usual_bandwidth_bps) {
        return LinkHealth::degraded;
    }
    return LinkHealth::up;
}

}  // namespace netplace::network
