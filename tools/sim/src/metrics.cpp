#include "netplace/sim/metrics.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

namespace netplace::sim {

double percentile(const std::vector<double>& sorted, double p) {
    if (sorted.empty()) return 0;
    const auto n = static_cast<double>(sorted.size());
    auto rank = static_cast<std::size_t>(std::ceil(p * n));
    rank = std::clamp<std::size_t>(rank, 1, sorted.size());
    return sorted[rank - 1];
}

std::vector<double> job_bounds(const std::vector<SimJob>& jobs, const Federation& federation,
                               const Network& network) {
    const std::size_t n = federation.sites.size();
    std::vector<double> out(jobs.size(), std::numeric_limits<double>::infinity());
    std::vector<std::uint64_t> by_source(n);
    for (std::size_t j = 0; j < jobs.size(); ++j) {
        const SimJob& job = jobs[j];
        for (std::size_t s = 0; s < n; ++s) {
            const auto& cap = federation.sites[s].capacity;
            if (job.cores > cap.cores || job.gpus > cap.total_gpus()) continue;
            const double speed = federation.sites[s].speed > 0 ? federation.sites[s].speed : 1.0;
            std::fill(by_source.begin(), by_source.end(), 0);
            double in = 0;
            for (const auto& i : job.inputs) {
                if (i.bytes == 0) continue;
                if (i.site == s)
                    in = std::max(
                        in, static_cast<double>(i.bytes) * 8.0 / network.intra_site_bandwidth_bps);
                else if (i.site < n)
                    by_source[i.site] += i.bytes;
            }
            for (std::size_t f = 0; f < n; ++f)
                if (by_source[f] > 0)
                    in = std::max(in, network.latency(f, s) + static_cast<double>(by_source[f]) *
                                                                  8.0 / network.bandwidth(f, s));
            double outp = 0;
            if (job.output_bytes > 0 && s != job.home && job.home < n)
                outp = network.latency(s, job.home) +
                       static_cast<double>(job.output_bytes) * 8.0 / network.bandwidth(s, job.home);
            out[j] = std::min(out[j], in + job.runtime_s * speed + outp);
        }
    }
    return out;
}

Summary summarise(const SimResult& result, const std::vector<SimJob>& jobs,
                  const Federation& federation, std::size_t bins,
                  const std::vector<double>* bounds) {
    Summary s;
    s.policy = result.policy;
    s.jobs = jobs.size();
    s.rejected = result.rejected;
    s.events = result.events;
    s.replica_reads = result.replica_reads;
    s.replica_fetches = result.replica_fetches;
    double sum_bound = 0;
    std::vector<double> waits;
    waits.reserve(jobs.size());
    s.turnarounds.reserve(jobs.size());
    double first = std::numeric_limits<double>::infinity(), last = -first;
    double sum_wait = 0, sum_ta = 0, sum_bsld = 0, sum_in = 0;
    const std::size_t n = federation.sites.size();
    s.sites.resize(n);
    for (std::size_t i = 0; i < n; ++i) s.sites[i].site = federation.sites[i].name;
    for (std::size_t j = 0; j < jobs.size(); ++j) {
        const auto& r = result.records[j];
        if (r.site < 0) continue;
        ++s.placed;
        const double wait = r.start_s - r.submit_s;
        const double ta = r.done_s - r.submit_s;
        waits.push_back(wait);
        s.turnarounds.push_back(ta);
        sum_wait += wait;
        sum_ta += ta;
        sum_bsld += std::max(1.0, ta / std::max(r.run_s, kSlowdownBound));
        sum_in += r.stage_in_s;
        if (bounds && j < bounds->size()) sum_bound += (*bounds)[j];
        s.transfer_s += r.stage_in_s + r.stage_out_s;
        s.wan_bytes += r.wan_bytes;
        first = std::min(first, r.submit_s);
        last = std::max(last, r.done_s);
        ++s.sites[static_cast<std::size_t>(r.site)].jobs;
        if (static_cast<std::uint32_t>(r.site) != jobs[j].home) ++s.jobs_moved;
    }
    if (s.placed == 0) return s;
    const auto placed = static_cast<double>(s.placed);
    s.mean_wait_s = sum_wait / placed;
    s.mean_turnaround_s = sum_ta / placed;
    s.mean_bounded_slowdown = sum_bsld / placed;
    s.mean_stage_in_s = sum_in / placed;
    if (bounds) {
        s.mean_bound_s = sum_bound / placed;
        s.turnaround_over_bound = s.mean_bound_s > 0 ? s.mean_turnaround_s / s.mean_bound_s : 0;
    }
    s.makespan_s = last - first;
    std::sort(waits.begin(), waits.end());
    std::sort(s.turnarounds.begin(), s.turnarounds.end());
    s.median_wait_s = percentile(waits, 0.5);
    s.p95_wait_s = percentile(waits, 0.95);
    s.median_turnaround_s = percentile(s.turnarounds, 0.5);
    s.p95_turnaround_s = percentile(s.turnarounds, 0.95);

    // Busy core-seconds per site and per time bin over [first submit, last done].
    bins = std::max<std::size_t>(bins, 1);
    const double span = std::max(s.makespan_s, 1e-9);
    s.series_step_s = span / static_cast<double>(bins);
    std::vector<std::vector<double>> busy(n, std::vector<double>(bins, 0.0));
    std::vector<double> total(n, 0.0);
    for (std::size_t j = 0; j < jobs.size(); ++j) {
        const auto& r = result.records[j];
        if (r.site < 0 || r.end_s <= r.start_s) continue;
        const auto site = static_cast<std::size_t>(r.site);
        const double c = jobs[j].cores;
        total[site] += c * (r.end_s - r.start_s);
        const double a = r.start_s - first, b = r.end_s - first;
        auto bin = static_cast<std::size_t>(a / s.series_step_s);
        for (; bin < bins; ++bin) {
            const double lo = static_cast<double>(bin) * s.series_step_s, hi = lo + s.series_step_s;
            if (lo >= b) break;
            busy[site][bin] += c * (std::min(hi, b) - std::max(lo, a));
        }
    }
    for (std::size_t i = 0; i < n; ++i) {
        const double cores = federation.sites[i].capacity.cores;
        auto& u = s.sites[i];
        u.utilisation = cores > 0 ? total[i] / (cores * span) : 0;
        u.series.resize(bins);
        for (std::size_t b = 0; b < bins; ++b)
            u.series[b] = cores > 0 ? busy[i][b] / (cores * s.series_step_s) : 0;
    }

    // Link occupancy: transfer-seconds per link, then the busiest ten binned over time.
    if (!result.transfers.empty() && n > 0) {
        std::vector<double> link_busy(n * n, 0.0);
        std::vector<std::uint64_t> link_bytes(n * n, 0);
        for (const auto& t : result.transfers) {
            if (t.link >= n * n) continue;
            link_busy[t.link] += t.end_s - t.start_s;
            link_bytes[t.link] += t.bytes;
        }
        std::vector<std::uint32_t> order;
        for (std::uint32_t l = 0; l < n * n; ++l)
            if (link_busy[l] > 0) order.push_back(l);
        std::sort(order.begin(), order.end(), [&](std::uint32_t a, std::uint32_t b) {
            return link_busy[a] != link_busy[b] ? link_busy[a] > link_busy[b] : a < b;
        });
        order.resize(std::min<std::size_t>(order.size(), 10));
        std::vector<int> slot(n * n, -1);
        for (std::size_t k = 0; k < order.size(); ++k) {
            slot[order[k]] = static_cast<int>(k);
            LinkUsage u;
            u.from = federation.sites[order[k] / n].name;
            u.to = federation.sites[order[k] % n].name;
            u.bytes = link_bytes[order[k]];
            u.busy_s = link_busy[order[k]];
            u.series.assign(bins, 0.0);
            s.links.push_back(std::move(u));
        }
        for (const auto& t : result.transfers) {
            if (t.link >= n * n || slot[t.link] < 0 || t.end_s <= t.start_s) continue;
            auto& series = s.links[static_cast<std::size_t>(slot[t.link])].series;
            const double a = t.start_s - first, b = t.end_s - first;
            for (auto bin = static_cast<std::size_t>(std::max(0.0, a) / s.series_step_s);
                 bin < bins; ++bin) {
                const double lo = static_cast<double>(bin) * s.series_step_s,
                             hi = lo + s.series_step_s;
                if (lo >= b) break;
                series[bin] += (std::min(hi, b) - std::max(lo, a)) / s.series_step_s;
            }
        }
    }
    return s;
}

}  // namespace netplace::sim
