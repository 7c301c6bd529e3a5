#include "netplace/sim/simulator.hpp"

#include "netplace/core/checked.hpp"
#include "netplace/core/error.hpp"
#include "netplace/core/link_sharing.hpp"
#include "netplace/sim/predictor.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <list>
#include <map>
#include <queue>
#include <set>
#include <unordered_map>

namespace netplace::sim {

Network make_network(const Federation& federation, const policies::LinkMatrix& links) {
    Network net;
    const std::size_t n = federation.sites.size();
    net.sites = n;
    net.intra_site_bandwidth_bps = federation.intra_site_bandwidth_bps;
    net.bandwidth_bps.assign(n * n, federation.default_bandwidth_bps);
    net.latency_s.assign(n * n, federation.default_latency_s);
    for (std::size_t i = 0; i < n; ++i) {
        for (std::size_t j = 0; j < n; ++j) {
            double& bw = net.bandwidth_bps[i * n + j];
            double& lat = net.latency_s[i * n + j];
            if (i == j) {
                bw = federation.intra_site_bandwidth_bps;
                lat = 0;
            } else if (const auto* l = links.figures(i, j)) {
                if (l->bandwidth_bps > 0) bw = l->bandwidth_bps;
                if (l->latency_s >= 0) lat = l->latency_s;
            }
            if (!(bw > 0)) bw = 1;  // a link reported at 0 still moves data, very slowly
        }
    }
    return net;
}

namespace {

constexpr std::uint32_t kNone = std::numeric_limits<std::uint32_t>::max();

// Lower kinds run first at equal times; submissions (not in the heap) come after all of them.
enum Kind : std::uint8_t { k_job_end = 0, k_transfer = 1, k_arrive = 2, k_output_done = 3 };

struct Event {
    double t;
    std::uint8_t kind;
    std::uint64_t seq;
    std::uint32_t a;
    std::uint64_t b;
};

struct EventLater {
    bool operator()(const Event& x, const Event& y) const {
        if (x.t != y.t) return x.t > y.t;
        if (x.kind != y.kind) return x.kind > y.kind;
        return x.seq > y.seq;
    }
};

struct Transfer {
    double remaining = 0;  // bytes
    std::uint32_t job = kNone;
    bool output = false;
    std::uint32_t dataset = kNone;  // input transfers: cached at the destination when done
    double start = 0;
    std::uint64_t bytes = 0;
};

struct Link {
    double rate_Bps = 0;
    double latency_s = 0;
    std::vector<std::uint32_t> active;  // transfer ids
    double last = 0;
    double left = 0;  // bytes left over the active transfers, as of `last`
    std::uint64_t version = 0;
};

// Datasets held at one site beyond the ones that live there: least recently used evicted first.
class ReplicaCache {
  public:
    bool touch(std::uint32_t dataset) {
        auto it = index_.find(dataset);
        if (it == index_.end()) return false;
        lru_.splice(lru_.begin(), lru_, it->second);
        return true;
    }
    bool has(std::uint32_t dataset) const { return index_.count(dataset) != 0; }
    void insert(std::uint32_t dataset, std::uint64_t bytes, std::uint64_t capacity) {
        if (bytes > capacity || touch(dataset)) return;
        while (used_ + bytes > capacity && !lru_.empty()) {
            used_ -= lru_.back().second;
            index_.erase(lru_.back().first);
            lru_.pop_back();
        }
        lru_.emplace_front(dataset, bytes);
        index_[dataset] = lru_.begin();
        used_ += bytes;
    }

  private:
    std::list<std::pair<std::uint32_t, std::uint64_t>> lru_;  // most recent first
    std::unordered_map<std::uint32_t, std::list<std::pair<std::uint32_t, std::uint64_t>>::iterator>
        index_;
    std::uint64_t used_ = 0;
};

struct SiteState {
    std::string name;
    unsigned cores_total = 0, gpus_total = 0, nodes_total = 0;
    unsigned cores_free = 0, gpus_free = 0;
    double speed = 1;
    std::vector<std::uint32_t> queue;  // arrival order; kNone marks a backfilled job
    std::size_t qhead = 0;
    std::size_t queued = 0;  // live entries in queue
    std::size_t tombs = 0;
    std::set<std::pair<double, std::uint32_t>> running;  // (end by requested time, job)
    unsigned jobs_running = 0, jobs_pending = 0;         // pending: staging in or queued
    double pending_core_s = 0, pending_gpu_s = 0;
    double running_core_end = 0;  // sum over running jobs of cores x expected end
    unsigned running_cores = 0;
    bool dirty = false;
    ReplicaCache cache;
    // Core-seconds used and asked for by the site's ended jobs, decayed per job so recent ones
    // count most: their ratio is SiteLoad::runtime_ratio, as an accounting collector reports it.
    double used_core_s = 0, asked_core_s = 0;
};

struct JobState {
    std::uint32_t inputs_left = 0;
    double est_s = 0;  // requested time at the site
    double end_est = 0;
};

class Engine final : public SimView {
  public:
    Engine(const Federation& fed, const Network& net, const std::vector<SimJob>& jobs,
           Placer& placer, const SimOptions& options)
        : fed_(fed), net_(net), jobs_(jobs), placer_(placer), options_(options) {
        const std::size_t n = fed.sites.size();
        if (net.sites != n)
            throw Error("simulator: network matrix does not match the federation's sites");
        sites_.resize(n);
        for (std::size_t i = 0; i < n; ++i) {
            const auto& s = fed.sites[i];
            auto& st = sites_[i];
            st.name = s.name;
            st.cores_total = st.cores_free = s.capacity.cores;
            st.gpus_total = st.gpus_free = s.capacity.total_gpus();
            st.nodes_total = s.capacity.nodes;
            st.speed = s.speed > 0 ? s.speed : 1.0;
        }
        links_.resize(n * n);
        for (std::size_t f = 0; f < n; ++f)
            for (std::size_t t = 0; t < n; ++t) {
                links_[f * n + t].rate_Bps = net.bandwidth(f, t) / 8.0;
                links_[f * n + t].latency_s = net.latency(f, t);
            }
        state_.resize(jobs.size());
        result_.records.resize(jobs.size());
        result_.policy = placer.name();
        for (std::size_t i = 1; i < jobs.size(); ++i)
            if (jobs[i].submit_s < jobs[i - 1].submit_s)
                throw Error("simulator: jobs must be sorted by submit time");
    }

    SimResult run() {
        std::size_t next = 0;
        const std::size_t total = jobs_.size();
        while (next < total || !heap_.empty()) {
            const bool from_heap =
                !heap_.empty() && (next >= total || heap_.top().t <= jobs_[next].submit_s);
            if (from_heap) {
                const Event e = heap_.top();
                heap_.pop();
                now_ = e.t;
                handle(e);
            } else {
                now_ = jobs_[next].submit_s;
                submit(static_cast<std::uint32_t>(next));
                ++next;
                if (options_.progress && (next % 8192 == 0 || next == total))
                    options_.progress(next, total);
            }
            ++result_.events;
            double next_t = std::numeric_limits<double>::infinity();
            if (!heap_.empty()) next_t = heap_.top().t;
            if (next < total) next_t = std::min(next_t, jobs_[next].submit_s);
            if (next_t > now_) {
                for (std::uint32_t s : dirty_) {
                    sites_[s].dirty = false;
                    schedule(sites_[s]);
                }
                dirty_.clear();
            }
        }
        return std::move(result_);
    }

    // SimView
    double now() const override { return now_; }
    const Federation& federation() const override { return fed_; }
    const Network& network() const override { return net_; }
    std::size_t sites() const override { return sites_.size(); }
    bool fits(std::size_t site, const SimJob& job) const override {
        const auto& s = sites_[site];
        return job.cores <= s.cores_total && job.gpus <= s.gpus_total;
    }
    SiteLoad load(std::size_t site) const override {
        const auto& s = sites_[site];
        SiteLoad l;
        l.site = s.name;
        l.nodes_total = s.nodes_total;
        l.nodes_idle = s.cores_total
                           ? static_cast<unsigned>(static_cast<std::uint64_t>(s.nodes_total) *
                                                   s.cores_free / s.cores_total)
                           : 0;
        l.cores_total = s.cores_total;
        l.cores_free = s.cores_free;
        l.gpus_total = s.gpus_total;
        l.gpus_free = s.gpus_free;
        l.jobs_running = s.jobs_running;
        l.jobs_pending = s.jobs_pending;
        l.pending_core_seconds = std::max(0.0, s.pending_core_s);
        l.pending_gpu_seconds = std::max(0.0, s.pending_gpu_s);
        l.running_core_seconds_left = std::max(0.0, s.running_core_end - now_ * s.running_cores);
        l.runtime_ratio = s.asked_core_s > 0 ? s.used_core_s / s.asked_core_s : 0;
        l.age_s = 0;
        return l;
    }
    double estimated_start(std::size_t site, const SimJob& job) const override;
    LinkLoad link_load(std::size_t from, std::size_t to) const override {
        const Link& l = links_[from * sites_.size() + to];
        if (l.active.empty()) return {};
        // Every active transfer gets rate / n, so together they have moved rate x elapsed.
        return {std::max(0.0, l.left - l.rate_Bps * (now_ - l.last)),
                static_cast<unsigned>(l.active.size())};
    }
    double predicted_runtime(const SimJob& job) const override {
        return predictor_.predict(job.user, job.walltime_s);
    }
    void replicas(const SimInput& in, std::vector<std::uint32_t>& out) const override {
        out.clear();
        if (options_.replica_cache_bytes == 0) return;
        for (std::uint32_t i = 0; i < sites_.size(); ++i)
            if (i != in.site && sites_[i].cache.has(in.dataset)) out.push_back(i);
    }

  private:
    const Federation& fed_;
    const Network& net_;
    const std::vector<SimJob>& jobs_;
    Placer& placer_;
    const SimOptions& options_;
    std::vector<SiteState> sites_;
    std::vector<Link> links_;
    std::vector<JobState> state_;
    std::vector<Transfer> transfers_;
    std::vector<std::uint32_t> free_transfers_;
    std::priority_queue<Event, std::vector<Event>, EventLater> heap_;
    std::vector<std::uint32_t> dirty_;
    SimResult result_;
    double now_ = 0;
    std::uint64_t seq_ = 0;
    RuntimePredictor predictor_;
    std::vector<std::uint32_t> sources_;  // scratch: replica sites of one input

    void push(double t, Kind kind, std::uint32_t a, std::uint64_t b = 0) {
        heap_.push(Event{t, kind, seq_++, a, b});
    }

    void mark(std::uint32_t site) {
        if (!sites_[site].dirty) {
            sites_[site].dirty = true;
            dirty_.push_back(site);
        }
    }

    void handle(const Event& e) {
        switch (e.kind) {
            case k_job_end:
                job_end(e.a);
                break;
            case k_transfer:
                transfer_check(e.a, e.b);
                break;
            case k_arrive:
                input_arrived(e.a);
                break;
            case k_output_done: {
                auto& r = result_.records[e.a];
                r.done_s = now_;
                r.stage_out_s = now_ - r.end_s;
                break;
            }
        }
    }

    void submit(std::uint32_t j) {
        const SimJob& job = jobs_[j];
        auto& rec = result_.records[j];
        rec.submit_s = job.submit_s;
        const auto choice = placer_.place(job, *this);
        if (!choice || *choice >= sites_.size() || !fits(*choice, job)) {
            if (choice && *choice < sites_.size())
                result_.warnings.push_back(
                    fmt::format("job {}: policy chose site '{}', which is too small for it", job.id,
                                sites_[*choice].name));
            ++result_.rejected;
            rec.site = -1;
            return;
        }
        const std::uint32_t s = *choice;
        auto& site = sites_[s];
        auto& st = state_[j];
        rec.site = static_cast<std::int32_t>(s);
        rec.run_s = job.runtime_s * site.speed;
        st.est_s = std::max(job.walltime_s, job.runtime_s) * site.speed;
        ++site.jobs_pending;
        site.pending_core_s += job.cores * st.est_s;
        site.pending_gpu_s += job.gpus * st.est_s;
        const bool caching = options_.replica_cache_bytes > 0;
        for (const auto& in : job.inputs) {
            if (in.bytes == 0) continue;
            const bool cached = caching && in.site != s && site.cache.touch(in.dataset);
            if (in.site == s || cached) {
                const double delay =
                    static_cast<double>(in.bytes) * 8.0 / net_.intra_site_bandwidth_bps;
                ++st.inputs_left;
                result_.replica_reads += cached;
                push(now_ + delay, k_arrive, j);
            } else {
                std::uint32_t from = in.site;
                if (caching) {
                    // The origin or a replica, whichever link would finish this transfer first.
                    replicas(in, sources_);
                    double best = fetch_time(from, s, in.bytes);
                    for (std::uint32_t r : sources_) {
                        const double t = fetch_time(r, s, in.bytes);
                        if (t < best) {
                            best = t;
                            from = r;
                        }
                    }
                    result_.replica_fetches += from != in.site;
                }
                rec.wan_bytes = checked::sat_add(rec.wan_bytes, in.bytes);
                ++st.inputs_left;
                add_transfer(from * sites_.size() + s, j, static_cast<double>(in.bytes), false,
                             caching ? in.dataset : kNone);
            }
        }
        if (st.inputs_left == 0) enqueue(j);
    }

    void enqueue(std::uint32_t j) {
        auto& rec = result_.records[j];
        rec.ready_s = now_;
        rec.stage_in_s = now_ - rec.submit_s;
        auto& site = sites_[static_cast<std::size_t>(rec.site)];
        site.queue.push_back(j);
        ++site.queued;
        mark(static_cast<std::uint32_t>(rec.site));
    }

    void input_arrived(std::uint32_t j) {
        if (--state_[j].inputs_left == 0) enqueue(j);
    }

    // Processor-sharing estimate of a transfer of `bytes` from -> to if it started now.
    double fetch_time(std::uint32_t from, std::uint32_t to, std::uint64_t bytes) const {
        const Link& l = links_[from * sites_.size() + to];
        const LinkLoad load = link_load(from, to);
        return shared_transfer_s(static_cast<double>(bytes), l.rate_Bps * 8.0, l.latency_s,
                                 load.bytes_left, load.transfers);
    }

    void advance(Link& link) {
        if (!link.active.empty() && now_ > link.last) {
            const double moved =
                link.rate_Bps / static_cast<double>(link.active.size()) * (now_ - link.last);
            for (std::uint32_t id : link.active) transfers_[id].remaining -= moved;
        }
        link.last = now_;
    }

    void reschedule(std::uint32_t li) {
        Link& link = links_[li];
        ++link.version;
        link.left = 0;
        if (link.active.empty()) return;
        double min_rem = std::numeric_limits<double>::infinity();
        for (std::uint32_t id : link.active) {
            min_rem = std::min(min_rem, transfers_[id].remaining);
            link.left += std::max(0.0, transfers_[id].remaining);
        }
        const double share = link.rate_Bps / static_cast<double>(link.active.size());
        push(now_ + std::max(0.0, min_rem) / share, k_transfer, li, link.version);
    }

    void add_transfer(std::size_t li, std::uint32_t job, double bytes, bool output,
                      std::uint32_t dataset = kNone) {
        Link& link = links_[li];
        advance(link);
        std::uint32_t id;
        if (!free_transfers_.empty()) {
            id = free_transfers_.back();
            free_transfers_.pop_back();
        } else {
            id = static_cast<std::uint32_t>(transfers_.size());
            transfers_.emplace_back();
        }
        transfers_[id] =
            Transfer{bytes, job, output, dataset, now_, static_cast<std::uint64_t>(bytes)};
        link.active.push_back(id);
        reschedule(static_cast<std::uint32_t>(li));
    }

    void transfer_check(std::uint32_t li, std::uint64_t version) {
        Link& link = links_[li];
        if (version != link.version) return;  // superseded by a later start or end on this link
        advance(link);
        // The transfer this event was computed for has (up to rounding) nothing left; finish
        // every transfer within a byte of done, and at least the smallest one.
        std::size_t min_i = 0;
        for (std::size_t i = 1; i < link.active.size(); ++i)
            if (transfers_[link.active[i]].remaining < transfers_[link.active[min_i]].remaining)
                min_i = i;
        const std::uint32_t min_id = link.active.empty() ? kNone : link.active[min_i];
        std::size_t w = 0;
        for (std::size_t i = 0; i < link.active.size(); ++i) {
            const std::uint32_t id = link.active[i];
            if (transfers_[id].remaining <= 1.0 || id == min_id) {
                const Transfer& tr = transfers_[id];
                push(now_ + link.latency_s, tr.output ? k_output_done : k_arrive, tr.job);
                if (tr.dataset != kNone) {
                    const std::size_t to = li % sites_.size();
                    sites_[to].cache.insert(tr.dataset, tr.bytes, options_.replica_cache_bytes);
                }
                if (options_.record_transfers)
                    result_.transfers.push_back({li, tr.start, now_, tr.bytes});
                free_transfers_.push_back(id);
            } else {
                link.active[w++] = id;
            }
        }
        link.active.resize(w);
        reschedule(li);
    }

    void start(SiteState& site, std::uint32_t j) {
        const SimJob& job = jobs_[j];
        auto& st = state_[j];
        auto& rec = result_.records[j];
        site.cores_free -= job.cores;
        site.gpus_free -= job.gpus;
        st.end_est = now_ + st.est_s;
        site.running.emplace(st.end_est, j);
        --site.jobs_pending;
        ++site.jobs_running;
        site.pending_core_s -= job.cores * st.est_s;
        site.pending_gpu_s -= job.gpus * st.est_s;
        site.running_cores += job.cores;
        site.running_core_end += job.cores * st.end_est;
        --site.queued;
        rec.start_s = now_;
        push(now_ + rec.run_s, k_job_end, j);
    }

    void job_end(std::uint32_t j) {
        const SimJob& job = jobs_[j];
        auto& rec = result_.records[j];
        const auto s = static_cast<std::uint32_t>(rec.site);
        auto& site = sites_[s];
        const auto& st = state_[j];
        site.cores_free += job.cores;
        site.gpus_free += job.gpus;
        site.running.erase({st.end_est, j});
        --site.jobs_running;
        site.running_cores -= job.cores;
        site.running_core_end -= job.cores * st.end_est;
        if (site.running.empty()) site.running_core_end = 0;  // drop accumulated rounding
        rec.end_s = now_;
        rec.done_s = now_;
        predictor_.observe(job.user, job.runtime_s);
        constexpr double keep = 0.995;  // about the last 200 jobs
        site.used_core_s = site.used_core_s * keep + job.cores * rec.run_s;
        site.asked_core_s = site.asked_core_s * keep + job.cores * st.est_s;
        mark(s);
        if (job.output_bytes > 0 && s != job.home) {
            rec.wan_bytes += job.output_bytes;
            add_transfer(s * sites_.size() + job.home, j, static_cast<double>(job.output_bytes),
                         true);
        }
    }

    bool fits_now(const SiteState& site, const SimJob& job) const {
        return job.cores <= site.cores_free && job.gpus <= site.gpus_free;
    }

    // FCFS + EASY backfilling: one pass at the current instant.
    void schedule(SiteState& site) {
        auto& q = site.queue;
        std::size_t h = site.qhead;
        while (h < q.size()) {
            const std::uint32_t j = q[h];
            if (j == kNone) {
                --site.tombs;
                ++h;
                continue;
            }
            if (!fits_now(site, jobs_[j])) break;
            start(site, j);
            ++h;
        }
        site.qhead = h;
        if (h < q.size() && (site.cores_free > 0 || site.gpus_free > 0)) {
            // Reservation for the head: the earliest time enough running jobs have ended.
            const SimJob& head = jobs_[q[h]];
            long long avail_c = site.cores_free, avail_g = site.gpus_free;
            double shadow = std::numeric_limits<double>::infinity();
            long long extra_c = 0, extra_g = 0;
            for (const auto& [end, rj] : site.running) {
                avail_c += jobs_[rj].cores;
                avail_g += jobs_[rj].gpus;
                if (avail_c >= head.cores && avail_g >= head.gpus) {
                    shadow = std::max(end, now_);
                    extra_c = avail_c - head.cores;
                    extra_g = avail_g - head.gpus;
                    break;
                }
            }
            for (std::size_t k = h + 1; k < q.size(); ++k) {
                if (site.cores_free == 0) break;  // every job needs a core: nothing else can start
                const std::uint32_t j = q[k];
                if (j == kNone) continue;
                const SimJob& job = jobs_[j];
                if (!fits_now(site, job)) continue;
                if (now_ + state_[j].est_s <= shadow) {
                    start(site, j);
                } else if (job.cores <= extra_c && job.gpus <= extra_g) {
                    extra_c -= job.cores;
                    extra_g -= job.gpus;
                    start(site, j);
                } else {
                    continue;
                }
                q[k] = kNone;
                ++site.tombs;
            }
        }
        // Compact now and then so the queue vector does not grow with the whole trace.
        if (site.qhead > 4096 || (site.tombs > 256 && site.tombs * 2 > q.size() - site.qhead)) {
            std::vector<std::uint32_t> live;
            live.reserve(site.queued);
            for (std::size_t k = site.qhead; k < q.size(); ++k)
                if (q[k] != kNone) live.push_back(q[k]);
            q.swap(live);
            site.qhead = 0;
            site.tombs = 0;
        }
    }
};

// Slurm's will-run answer for a job appended to the site's queue, with requested times:
// - empty queue: now if it fits, else the time enough running jobs have ended;
// - up to 256 queued jobs: the queue replayed FCFS (no backfill) over the running jobs'
//   expected ends, the new job last;
// - longer queues: the backlog drained as a fluid over all cores (the replay would cost more
//   than the answer is worth on a site that busy).
double Engine::estimated_start(std::size_t site_index, const SimJob& job) const {
    const SiteState& site = sites_[site_index];
    if (site.queued == 0 && fits_now(site, job)) return now_;
    if (site.queued > 256) {
        const double backlog = std::max(0.0, site.pending_core_s) +
                               std::max(0.0, site.running_core_end - now_ * site.running_cores);
        return now_ + backlog / std::max(1u, site.cores_total);
    }
    struct Release {
        double t;
        unsigned c, g;
        bool operator>(const Release& o) const { return t > o.t; }
    };
    std::priority_queue<Release, std::vector<Release>, std::greater<>> started;
    auto it = site.running.begin();
    long long free_c = site.cores_free, free_g = site.gpus_free;
    double t = now_;
    auto place = [&](const SimJob& jb) -> bool {
        while (free_c < jb.cores || free_g < jb.gpus) {
            const bool from_running =
                it != site.running.end() && (started.empty() || it->first <= started.top().t);
            if (from_running) {
                t = std::max(t, it->first);
                free_c += jobs_[it->second].cores;
                free_g += jobs_[it->second].gpus;
                ++it;
            } else if (!started.empty()) {
                t = std::max(t, started.top().t);
                free_c += started.top().c;
                free_g += started.top().g;
                started.pop();
            } else {
                return false;
            }
        }
        free_c -= jb.cores;
        free_g -= jb.gpus;
        return true;
    };
    for (std::size_t k = site.qhead; k < site.queue.size(); ++k) {
        const std::uint32_t j = site.queue[k];
        if (j == kNone) continue;
        if (!place(jobs_[j])) break;
        started.push({t + state_[j].est_s, jobs_[j].cores, jobs_[j].gpus});
    }
    if (!place(job)) return std::numeric_limits<double>::infinity();
    return t;
}

}  // namespace

SimResult simulate(const Federation& federation, const Network& network,
                   const std::vector<SimJob>& jobs, Placer& placer, const SimOptions& options) {
    Engine engine(federation, network, jobs, placer, options);
    return engine.run();
}

}  // namespace netplace::sim
