#include "netplace/network/scheduler.hpp"

#include "netplace/core/log.hpp"
#include "netplace/core/units.hpp"
#include "netplace/network/estimator.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <limits>

namespace netplace::network {

std::vector<ProbeTarget> probe_targets(const Federation& fed) {
    if (fed.local_site.empty()) {
        throw Error(
            (fed.source.empty() ? std::string("federation") : fed.source) +
            ": local_site is not set: say which site this host belongs to (local_site: NAME)");
    }
    std::vector<ProbeTarget> out;
    for (const auto& s : fed.sites) {
        if (s.name == fed.local_site || s.probe_urls.empty()) continue;
        out.push_back({s.name, s.probe_urls});
    }
    return out;
}

Scheduler::Scheduler(Federation fed, const std::atomic<bool>* abort)
    : fed_(std::move(fed)), abort_(abort), rng_(std::random_device{}()) {}

bool Scheduler::owns(const LinkRecord& r) const {
    if (r.to != fed_.local_site) return false;
    const Site* s = fed_.find(r.from);
    return s && !s->probe_urls.empty() && s->name != fed_.local_site;
}

double Scheduler::jittered(double interval) {
    const double j = fed_.probing.jitter;
    std::uniform_real_distribution<double> d(1 - j, 1 + j);
    return interval * d(rng_);
}

void Scheduler::schedule_failure(LinkRecord& r, double now) {
    const ProbeSettings& p = fed_.probing;
    r.backoff_s = r.backoff_s > 0 ? std::min(2 * r.backoff_s, p.backoff_max_s)
                                  : std::min(p.latency_interval_s, p.backoff_max_s);
    const double next = now + jittered(r.backoff_s);
    r.next_latency_due = next;
    r.next_bandwidth_due = std::max(r.next_bandwidth_due.value_or(0), next);
}

bool Scheduler::latency_probe(LinkRecord& r, const ProbeTarget& t, double now,
                              std::vector<ProbeEvent>& ev) {
    ProbeOptions opt = ProbeOptions::from(fed_.probing);
    opt.abort = abort_;
    std::string error;
    for (const auto& url : t.urls) {
        try {
            const LatencyResult lr = probe_latency(url, opt);
            Sample s;
            s.at = now;
            s.latency_s = lr.rtt_median_s;
            s.jitter_s = lr.jitter_s;
            s.bytes = lr.bytes;
            record_success(r, s, fed_.probing);
            r.backoff_s = 0;
            r.next_latency_due = now + jittered(fed_.probing.latency_interval_s);
            ev.push_back({r.from, r.to, "latency", true,
                          fmt::format("rtt {:.3f} ms, jitter {:.3f} ms via {}",
                                      lr.rtt_median_s * 1e3, lr.jitter_s * 1e3, url)});
            return true;
        } catch (const ProbeError& e) {
            error = e.message();
        }
    }
    record_failure(r, now, error, fed_.probing);
    schedule_failure(r, now);
    ev.push_back({r.from, r.to, "latency", false, error});
    log::warn("link {} -> {}: latency probe failed ({} in a row): {}", r.from, r.to,
              r.consecutive_failures, error);
    return false;
}

bool Scheduler::bandwidth_probe(LinkRecord& r, const ProbeTarget& t, double now,
                                std::vector<ProbeEvent>& ev, const std::function<double()>& clock) {
    const ProbeSettings& p = fed_.probing;
    charge_bytes(r, 0, now);  // rolls the budget over at the UTC day boundary
    if (r.bytes_today + p.max_bytes > p.daily_budget_bytes) {
        r.next_bandwidth_due = utc_day_start(now) + 86400 + jittered(p.bandwidth_interval_s) * 0.1;
        const std::string msg = fmt::format(
            "daily byte budget {} spent ({} today): next bandwidth probe tomorrow",
            units::format_size(p.daily_budget_bytes), units::format_size(r.bytes_today));
        ev.push_back({r.from, r.to, "bandwidth", false, msg});
        log::info("link {} -> {}: {}", r.from, r.to, msg);
        return false;
    }
    ProbeOptions opt = ProbeOptions::from(p);
    opt.abort = abort_;
    std::string error;
    for (const auto& url : t.urls) {
        try {
            log::info("link {} -> {}: bandwidth probe via {} started", r.from, r.to, url);
            const BandwidthResult br = probe_bandwidth(url, opt);
            const double at = clock();
            Sample s;
            s.at = at;
            s.bandwidth_bps = br.bandwidth_bps;
            s.bytes = br.bytes;
            record_success(r, s, p);
            r.backoff_s = 0;
            r.next_bandwidth_due = at + jittered(p.bandwidth_interval_s);
            ev.push_back(
                {r.from, r.to, "bandwidth", true,
                 fmt::format("{} ({} in {:.2f} s{}) via {}", units::format_rate(br.bandwidth_bps),
                             units::format_size(br.bytes), br.seconds,
                             br.stable ? "" : ", cap/timeout", url)});
            return true;
        } catch (const ProbeError& e) {
            error = e.message();
        }
    }
    const double at = clock();
    record_failure(r, at, error, p);
    schedule_failure(r, at);
    ev.push_back({r.from, r.to, "bandwidth", false, error});
    log::warn("link {} -> {}: bandwidth probe failed ({} in a row): {}", r.from, r.to,
              r.consecutive_failures, error);
    return false;
}

std::vector<ProbeEvent> Scheduler::run_due(LinkState& st, bool force,
                                           const std::function<double()>& clock) {
    std::vector<ProbeEvent> ev;
    const auto targets = probe_targets(fed_);
    st.federation = fed_.name;
    st.writer_site = fed_.local_site;
    std::vector<bool> latency_ok(targets.size(), true);
    for (size_t i = 0; i < targets.size(); ++i) {
        LinkRecord& r = st.get_or_add(targets[i].site, fed_.local_site);
        const double now = clock();
        if (force || r.next_latency_due.value_or(0) <= now)
            latency_ok[i] = latency_probe(r, targets[i], now, ev);
    }
    if (force) {
        for (size_t i = 0; i < targets.size(); ++i) {
            if (!latency_ok[i]) continue;  // already counted as this round's failure
            LinkRecord& r = *st.find(targets[i].site, fed_.local_site);
            bandwidth_probe(r, targets[i], clock(), ev, clock);
        }
        return ev;
    }
    // One bandwidth probe: the most overdue one.
    const double now = clock();
    std::optional<size_t> pick;
    double oldest = std::numeric_limits<double>::infinity();
    for (size_t i = 0; i < targets.size(); ++i) {
        const LinkRecord* r = st.find(targets[i].site, fed_.local_site);
        const double due = r->next_bandwidth_due.value_or(0);
        if (due <= now && due < oldest) {
            oldest = due;
            pick = i;
        }
    }
    if (pick)
        bandwidth_probe(*st.find(targets[*pick].site, fed_.local_site), targets[*pick], now, ev,
                        clock);
    return ev;
}

double Scheduler::next_due(const LinkState& st, double now) const {
    double next = now + fed_.probing.latency_interval_s;
    for (const auto& t : probe_targets(fed_)) {
        const LinkRecord* r = st.find(t.site, fed_.local_site);
        if (!r) return now;
        next = std::min(
            {next, r->next_latency_due.value_or(now), r->next_bandwidth_due.value_or(now)});
    }
    return next;
}

}  // namespace netplace::network
