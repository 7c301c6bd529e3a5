// Placement under load (issue 15): the processor-sharing estimate of a stage-in on a busy link,
// the runtime predictor, replicas, the per-job lower bound, and the engine fed with all of them.
// Every expectation is computed by hand in the comment next to it.
#include "sim_fixtures.hpp"

#include "netplace/core/link_sharing.hpp"
#include "netplace/policies/engine.hpp"
#include "netplace/policies/load_inputs.hpp"
#include "netplace/sim/metrics.hpp"
#include "netplace/sim/placers.hpp"
#include "netplace/sim/predictor.hpp"

#include <catch2/catch.hpp>

using namespace netplace;
using namespace netplace::sim;
using simtest::job;

namespace {

// Places every job at one site and keeps what the view said about link 1 -> 0 at each submit.
class Probe final : public Placer {
  public:
    std::string name() const override { return "probe"; }
    std::optional<std::uint32_t> place(const SimJob& job, const SimView& v) override {
        seen.push_back(v.link_load(1, 0));
        predicted.push_back(v.predicted_runtime(job));
        return 0;
    }
    std::vector<LinkLoad> seen;
    std::vector<double> predicted;
};

LinkEstimate estimate(const std::string& from, const std::string& to, double bps, double lat) {
    LinkEstimate l;
    l.from = from;
    l.to = to;
    l.bandwidth_bps = bps;
    l.latency_s = lat;
    return l;
}

Federation two_sites(double bps, double latency_s) {
    Federation fed;
    fed.sites.push_back(simtest::site("a", 8));
    fed.sites.push_back(simtest::site("b", 8));
    fed.links.push_back({"b", "a", bps, latency_s});
    fed.links.push_back({"a", "b", bps, latency_s});
    return fed;
}

}  // namespace

TEST_CASE("processor-sharing estimate of a stage-in joining a busy link", "[sim]") {
    // 8 Gbit/s = 1 GB/s, 0.1 s latency, a new transfer of 10 GB.
    // Alone: 0.1 + 10 = 10.1 s.
    CHECK(shared_transfer_s(10e9, 8e9, 0.1, 0, 0) == Approx(10.1));
    // Two transfers with 30 GB left (15 GB each): all three share 1/3 GB/s each; the new one's
    // 10 GB take 30 s. Formula: 0.1 + (10 + min(30, 2 x 10)) = 30.1 s.
    CHECK(shared_transfer_s(10e9, 8e9, 0.1, 30e9, 2) == Approx(30.1));
    // Two with 5 GB left (2.5 each): three share until those end after 7.5 s (the new one has
    // 7.5 GB left), then 7.5 s alone: 15 s. Formula: 0.1 + (10 + min(5, 20)) = 15.1 s.
    CHECK(shared_transfer_s(10e9, 8e9, 0.1, 5e9, 2) == Approx(15.1));
    // Nothing to move costs nothing; a link without bandwidth never finishes.
    CHECK(shared_transfer_s(0, 8e9, 0.1, 5e9, 2) == 0);
    CHECK(std::isinf(shared_transfer_s(1, 0, 0.1, 0, 0)));
    // The engine's wrapper: no queued transfers = the unshared figure of transfer_s, exactly.
    LinkEstimate idle = estimate("b", "a", 8e9, 0.1);
    CHECK(policies::stage_in_estimate_s(10'000'000'000, &idle, 8e9, 0.1) ==
          policies::transfer_s(10'000'000'000, 8e9, 0.1));
    idle.queued_bytes = 30e9;
    idle.queued_transfers = 2;
    CHECK(policies::stage_in_estimate_s(10'000'000'000, &idle, 8e9, 0.1) == Approx(30.1));
}

TEST_CASE("the simulator's link sharing finishes a transfer when the estimate says", "[sim]") {
    // b -> a at 8 Mbit/s = 1 MB/s, no latency. J1 and J2 at 0 read 15 MB each from b, J3 at 0
    // reads 10 MB from b: at J3's submit the view shows 2 transfers, 30 MB left, and the
    // estimate (10 + min(30, 20)) = 30 s is exactly when J3's bytes arrive (equal shares).
    const Federation fed = two_sites(8e6, 0);
    const Network net = make_network(fed, policies::link_matrix(fed, nullptr, 0));
    auto j1 = job(1, 0, 1, 1, 1), j2 = job(2, 0, 1, 1, 1), j3 = job(3, 0, 1, 1, 1);
    j1.inputs.push_back({1, 15'000'000, 1});
    j2.inputs.push_back({1, 15'000'000, 2});
    j3.inputs.push_back({1, 10'000'000, 3});
    Probe probe;
    const auto r = simulate(fed, net, {j1, j2, j3}, probe);
    REQUIRE(probe.seen.size() == 3);
    CHECK(probe.seen[0].transfers == 0);
    CHECK(probe.seen[2].transfers == 2);
    CHECK(probe.seen[2].bytes_left == Approx(30e6));
    const double est =
        shared_transfer_s(10e6, 8e6, 0, probe.seen[2].bytes_left, probe.seen[2].transfers);
    CHECK(est == Approx(30));
    CHECK(r.records[2].ready_s == Approx(est));
    // J1, J2: 10 MB each by t = 30, then 5 MB each at 0.5 MB/s: done at 40.
    CHECK(r.records[0].ready_s == Approx(40));
    REQUIRE(r.transfers.size() == 3);
    CHECK(r.transfers[0].link == 1 * 2 + 0);
    CHECK(r.transfers[0].end_s == Approx(30));
}

TEST_CASE("runtime predictor: mean of the user's last two runtimes, capped by the request",
          "[sim]") {
    RuntimePredictor p;
    CHECK(p.predict(7, 100) == 100);  // no history: the requested time
    p.observe(7, 10);
    CHECK(p.predict(7, 100) == 10);  // one job: its runtime
    p.observe(7, 30);
    CHECK(p.predict(7, 100) == 20);  // (10 + 30) / 2
    p.observe(7, 50);
    CHECK(p.predict(7, 100) == 40);  // the last two: (30 + 50) / 2
    CHECK(p.predict(7, 35) == 35);   // never above the request
    CHECK(p.predict(8, 60) == 60);   // another user has no history
    CHECK(p.knows(7));
    CHECK_FALSE(p.knows(8));
}

TEST_CASE("the simulator predicts from jobs that have ended, not from the trace ahead", "[sim]") {
    // User 5: J1 (0..10, asked 100), J2 submitted at 5 (J1 still running: no history, 100),
    // J3 submitted at 20 (J1 ended at 10 with 10 s; J2 runs 5..45): prediction 10.
    const Federation fed = two_sites(8e6, 0);
    const Network net = make_network(fed, policies::link_matrix(fed, nullptr, 0));
    auto j1 = job(1, 0, 10, 100, 1), j2 = job(2, 5, 40, 100, 1), j3 = job(3, 20, 1, 100, 1);
    j1.user = j2.user = j3.user = 5;
    Probe probe;
    simulate(fed, net, {j1, j2, j3}, probe);
    REQUIRE(probe.predicted.size() == 3);
    CHECK(probe.predicted[0] == 100);
    CHECK(probe.predicted[1] == 100);
    CHECK(probe.predicted[2] == 10);
}

TEST_CASE("replicas: a dataset moved to a site serves later jobs there, LRU evicts", "[sim]") {
    // b -> a at 1 MB/s. Cache of 10 MB per site. D1 (8 MB) read by J1 at 0 (moved: 8 s), by J2
    // at 20 (replica at a: local read, no WAN bytes). D2 (6 MB) by J3 at 30 evicts D1 (8 + 6 >
    // 10), so J4 reading D1 at 50 moves it again.
    const Federation fed = two_sites(8e6, 0);
    const Network net = make_network(fed, policies::link_matrix(fed, nullptr, 0));
    auto j1 = job(1, 0, 1, 1, 1), j2 = job(2, 20, 1, 1, 1), j3 = job(3, 30, 1, 1, 1),
         j4 = job(4, 50, 1, 1, 1);
    j1.inputs.push_back({1, 8'000'000, 1});
    j2.inputs.push_back({1, 8'000'000, 1});
    j3.inputs.push_back({1, 6'000'000, 2});
    j4.inputs.push_back({1, 8'000'000, 1});
    simtest::Fixed at_a(0);
    SimOptions opts;
    opts.replica_cache_bytes = 10'000'000;
    const auto r = simulate(fed, net, {j1, j2, j3, j4}, at_a, opts);
    CHECK(r.records[0].wan_bytes == 8'000'000);
    CHECK(r.records[1].wan_bytes == 0);
    CHECK(r.records[2].wan_bytes == 6'000'000);
    CHECK(r.records[3].wan_bytes == 8'000'000);
    CHECK(r.replica_reads == 1);
    // Without a cache every read moves the data.
    const auto plain = simulate(fed, net, {j1, j2, j3, j4}, at_a);
    CHECK(plain.records[1].wan_bytes == 8'000'000);
    CHECK(plain.replica_reads == 0);
}

TEST_CASE("per-job lower bound: no wait, fastest site, unshared transfers", "[sim]") {
    // Sites a (speed 1) and b (speed 0.5), b -> a and a -> b at 1 MB/s, 0.5 s latency.
    // J1 (home a) runs 100 s and reads 20 MB at a. At a: 20 MB intra-site (1 MB/s) = 20 + 100
    // = 120. At b: 0.5 + 20 + 50 = 70.5 -> bound 70.5. J2 (home a, no data, 4 cores) fits only
    // at a: 100.
    Federation fed = two_sites(8e6, 0.5);
    fed.sites[1].speed = 0.5;
    fed.sites[1].capacity.cores = 2;
    fed.intra_site_bandwidth_bps = 8e6;
    const Network net = make_network(fed, policies::link_matrix(fed, nullptr, 0));
    auto j1 = job(1, 0, 100, 100, 1), j2 = job(2, 0, 100, 100, 4);
    j1.inputs.push_back({0, 20'000'000, 1});
    const std::vector<SimJob> jobs{j1, j2};
    const auto bounds = job_bounds(jobs, fed, net);
    CHECK(bounds[0] == Approx(70.5));
    CHECK(bounds[1] == Approx(100));
    // Everything at a (J1 reads locally): turnarounds 120 and 100 (4 cores of 8: both start at
    // 0) -> mean 110 over mean bound 85.25.
    simtest::Fixed at_a(0);
    const auto r = simulate(fed, net, jobs, at_a);
    const Summary s = summarise(r, jobs, fed, 10, &bounds);
    CHECK(s.mean_bound_s == Approx(85.25));
    CHECK(s.turnaround_over_bound == Approx(110 / 85.25));
}

TEST_CASE("engine: a busy link turns a move into staying with the data", "[sim][policies]") {
    // Data (100 GB) at a; a is busy (1 h of queue), b idle. Link a -> b 8 Gbit/s (1 GB/s).
    // Idle link: b = 100 s stage-in + 1000 s run, a = 3600 + 1000 -> b.
    // 4 transfers with 400 GB left on a -> b: stage-in = 100 + min(400, 400) = 500 s... still b.
    // 40 transfers with 4 TB left: 100 + min(4000, 4000) = 4100 s -> a (4600 < 5100).
    Federation fed = two_sites(8e9, 0);
    fed.sites[0].capacity.cores = fed.sites[1].capacity.cores = 100;
    std::vector<LinkEstimate> links{estimate("a", "b", 8e9, 0), estimate("b", "a", 8e9, 0)};
    std::vector<SiteLoad> loads(2);
    loads[0].site = "a";
    loads[0].cores_total = 100;
    loads[0].pending_core_seconds = 100 * 3600.0;
    loads[1].site = "b";
    loads[1].cores_total = loads[1].cores_free = 100;
    JobRequest req;
    req.walltime_s = 1000;
    req.inputs.push_back({"d", "a", 100'000'000'000, {}});
    const auto set = policies::PolicySet::builtin();
    req.hints.policy = "fastest";
    auto d = policies::place(req, policies::make_inputs(fed, set, links, loads));
    REQUIRE(d.site);
    CHECK(*d.site == "b");
    CHECK(d.ranking.front().stage_in_s == Approx(100));
    CHECK(d.run_basis == "requested time (walltime)");
    links[0].queued_bytes = 400e9;
    links[0].queued_transfers = 4;
    d = policies::place(req, policies::make_inputs(fed, set, links, loads));
    CHECK(*d.site == "b");
    CHECK(d.ranking.front().stage_in_s == Approx(500));
    CHECK(d.ranking.front().link_transfers == 4);
    links[0].queued_bytes = 4000e9;
    links[0].queued_transfers = 40;
    d = policies::place(req, policies::make_inputs(fed, set, links, loads));
    CHECK(*d.site == "a");
    CHECK(d.ranking[1].stage_in_s == Approx(4100));
    // The run term follows the runtime the job carries, and the decision says whose it is.
    req.runtime_s = 100;
    req.runtime_source = "predicted: test";
    d = policies::place(req, policies::make_inputs(fed, set, links, loads));
    CHECK(d.ranking.front().run_s == Approx(100));
    CHECK(d.run_basis == "predicted: test");
}

TEST_CASE("engine: the wait estimate scales by the site's actual/requested ratio",
          "[sim][policies]") {
    // 100 cores, 3.6e5 pending core-s: backlog 3600 s; jobs there use 25 % of their limits.
    Site s = simtest::site("a", 100);
    SiteLoad l;
    l.site = "a";
    l.cores_total = 100;
    l.cores_free = 100;
    l.pending_core_seconds = 3.6e5;
    CHECK(policies::estimate_wait_s(1, 0, s, &l) == Approx(3600));
    l.runtime_ratio = 0.25;
    CHECK(policies::estimate_wait_s(1, 0, s, &l) == Approx(900));
}

namespace {
// The first job pinned at site a, every later one placed by a netplace policy.
class FirstAtA final : public Placer {
  public:
    explicit FirstAtA(std::unique_ptr<Placer> engine) : engine_(std::move(engine)) {}
    std::string name() const override { return "first-at-a"; }
    std::optional<std::uint32_t> place(const SimJob& job, const SimView& v) override {
        if (job.id == 1) return 0;
        return engine_->place(job, v);
    }

  private:
    std::unique_ptr<Placer> engine_;
};
}  // namespace

TEST_CASE("engine in the simulator: a cached replica makes its site local", "[sim][policies]") {
    // a (speed 1) and b (speed 2: twice as slow); b -> a at 1 MB/s. Dataset 7 (8 MB) lives at b.
    // J1 (t 0) is pinned at a: the dataset crosses to a (8 s) and stays in a's cache. J2 (t 20,
    // home b, 1 s at speed 1) reads it; `fastest` sees:
    //   with the replica at a: a = 0 + 1 = 1 s, b = 0 + 2 = 2 s -> a, read locally;
    //   without a cache:       a = 8 + 1 = 9 s, b = 2 s        -> b.
    Federation fed = two_sites(8e6, 0);
    fed.sites[1].speed = 2.0;
    const Network net = make_network(fed, policies::link_matrix(fed, nullptr, 0));
    auto j1 = job(1, 0, 1, 1, 1), j2 = job(2, 20, 1, 1, 1);
    j2.home = 1;
    j1.inputs.push_back({1, 8'000'000, 7});
    j2.inputs.push_back({1, 8'000'000, 7});
    PlacerContext ctx;
    ctx.federation = &fed;
    ctx.links = policies::link_matrix(fed, nullptr, 0);
    SimOptions opts;
    opts.replica_cache_bytes = 10'000'000;
    FirstAtA cached(make_placer("fastest", ctx));
    const auto r = simulate(fed, net, {j1, j2}, cached, opts);
    REQUIRE(r.records.size() == 2);
    CHECK(r.records[0].site == 0);
    CHECK(r.records[1].site == 0);
    CHECK(r.records[1].wan_bytes == 0);
    CHECK(r.replica_reads == 1);
    FirstAtA plain(make_placer("fastest", ctx));
    const auto p = simulate(fed, net, {j1, j2}, plain);
    CHECK(p.records[1].site == 1);
}
