#pragma once
// One-shot probes of a remote site's HTTP(S) endpoint with the libcurl multi interface:
// latency (median of k small requests' TCP connect times, plus jitter) and bandwidth (P parallel
// byte-range downloads, stopping once the estimate is stable or at a byte cap). Every transfer
// has hard connect, low-speed and total timeouts, TLS verification is on, and proxies are never
// used (the probe measures the direct path).
#include "netplace/core/error.hpp"
#include "netplace/core/site.hpp"

#include <atomic>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace netplace::network {

struct ProbeOptions {
    // From the federation's `probing:` (ProbeSettings, core/site.hpp, holds the defaults: a
    // default-constructed ProbeOptions takes ProbeSettings{}'s figures).
    unsigned streams;
    std::uint64_t max_bytes;
    unsigned latency_samples;
    double connect_timeout_s;
    double timeout_s;
    double low_speed_bps;
    double low_speed_time_s;
    std::optional<std::string> ca_file;
    // Stability rule: throughput is sampled in windows of `window_s`; the first `warmup_windows`
    // after the first byte are ignored (slow start, token-bucket burst); the probe stops once at
    // least `stable_windows` more windows moved the running estimate by less than `stable_change`.
    double window_s = 0.05;
    unsigned warmup_windows = 4;
    unsigned stable_windows = 20;
    double stable_change = 0.01;
    // Checked while transfers run; when it becomes true the probe stops with ProbeAborted.
    const std::atomic<bool>* abort = nullptr;

    ProbeOptions() : ProbeOptions(ProbeSettings{}) {}
    explicit ProbeOptions(const ProbeSettings& s);
    static ProbeOptions from(const ProbeSettings& s) { return ProbeOptions(s); }
};

// The endpoint or the path failed (message says which and why: "HTTP 404 from URL", timeouts...).
class ProbeError : public Error {
  public:
    using Error::Error;
};
// The probe was cancelled through ProbeOptions::abort (daemon shutdown); not a link failure.
class ProbeAborted : public Error {
  public:
    using Error::Error;
};

struct LatencyResult {
    std::vector<double> rtt_s;  // one TCP-connect time per request
    double rtt_median_s = 0;
    double jitter_s = 0;      // mean |difference| of consecutive samples (RFC 3550 style)
    std::uint64_t bytes = 0;  // body bytes received
    std::optional<std::uint64_t>
        resource_size;  // from Content-Range, when the server supports ranges
};

struct BandwidthResult {
    double bandwidth_bps = 0;  // remote -> local goodput (HTTP body bytes)
    std::uint64_t bytes = 0;   // body bytes received in total, warm-up included
    double seconds = 0;        // wall time of the whole probe
    bool stable = false;       // stopped because the estimate settled (not cap/timeout)
    bool ranges = false;       // the server honoured byte ranges
};

// libcurl's URL parser on a probe URL: the problem, or nullopt when libcurl accepts it with an
// http(s) scheme and a host. Pass it to load_federation in programs that probe.
std::optional<std::string> probe_url_problem(const std::string& url);

LatencyResult probe_latency(const std::string& url, const ProbeOptions& opt);
BandwidthResult probe_bandwidth(const std::string& url, const ProbeOptions& opt);

// Median of a non-empty list (copies; the caller's order is kept).
double median(std::vector<double> v);

}  // namespace netplace::network
