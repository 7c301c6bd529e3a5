#pragma once
// Probe scheduling in the manner of perfSONAR's pScheduler: each link has its own period with
// random jitter, at most one bandwidth probe runs at a time for the local site (latency probes
// are cheap and run between them), every link has a daily byte budget, and failures back off
// exponentially. The scheduler measures links towards the local site: remote -> local.
#include "netplace/network/link_state.hpp"
#include "netplace/network/probe.hpp"

#include <atomic>
#include <functional>
#include <random>
#include <string>
#include <vector>

namespace netplace::network {

struct ProbeTarget {
    std::string site;               // remote site: the link is site -> local_site
    std::vector<std::string> urls;  // tried in order until one answers
};

// Remote sites with probe URLs. Throws netplace::Error when local_site is unset.
std::vector<ProbeTarget> probe_targets(const Federation& fed);

// What one probe did, for logs and `netplace probe run` output.
struct ProbeEvent {
    std::string from, to, kind;  // kind: "latency" | "bandwidth"
    bool ok = false;
    std::string detail;  // figures or the error
};

class Scheduler {
  public:
    explicit Scheduler(Federation fed, const std::atomic<bool>* abort = nullptr);

    const Federation& federation() const { return fed_; }
    void set_federation(Federation fed) { fed_ = std::move(fed); }

    // Runs the probes due at `now` (all of them, once each, when `force`): latency probes first,
    // then at most one bandwidth probe (every target's, one after another, when `force`).
    // `clock` supplies wall time after each probe. Throws ProbeAborted when `abort` is set.
    std::vector<ProbeEvent> run_due(LinkState& st, bool force,
                                    const std::function<double()>& clock);
    // Earliest time any probe is due.
    double next_due(const LinkState& st, double now) const;

    // Links this scheduler writes (remote -> local for every target).
    bool owns(const LinkRecord& r) const;

  private:
    double jittered(double interval);
    void schedule_failure(LinkRecord& r, double now);
    bool latency_probe(LinkRecord& r, const ProbeTarget& t, double now,
                       std::vector<ProbeEvent>& ev);
    bool bandwidth_probe(LinkRecord& r, const ProbeTarget& t, double now,
                         std::vector<ProbeEvent>& ev, const std::function<double()>& clock);

    Federation fed_;
    const std::atomic<bool>* abort_;
    std::mt19937_64 rng_;
};

}  // namespace netplace::network
