// Policy comparison on generated mixes: the network-aware netplace policy (`fastest`, through
// the placement engine) against Slurm's multi-cluster rule (`earliest-start`, data ignored).
#include "sim_fixtures.hpp"

#include "netplace/sim/metrics.hpp"
#include "netplace/sim/placers.hpp"

#include <fmt/format.h>
#include <catch2/catch.hpp>

#include <cmath>

using namespace netplace;
using namespace netplace::sim;

namespace {

// Four 32-core sites; most jobs are submitted at `a`, so it queues and the others tempt. Links
// from `a` to the rest are thin (500 Mbit/s), the rest talk at 10 Gbit/s.
Federation federation() {
    Federation fed;
    fed.name = "cmp";
    for (const char* n : {"a", "b", "c", "d"}) fed.sites.push_back(simtest::site(n, 32));
    fed.default_bandwidth_bps = 10e9;
    fed.default_latency_s = 0.02;
    fed.intra_site_bandwidth_bps = 40e9;
    for (const char* n : {"b", "c", "d"}) {
        fed.links.push_back({"a", n, 0.5e9, 0.05});
        fed.links.push_back({n, "a", 0.5e9, 0.05});
    }
    return fed;
}

// A seeded synthetic trace in SWF: Poisson arrivals (mean gap 60 s, about 80 % of the 128 cores
// busy), runtimes lognormal around 20 min, 1-8 cores, requested time 1-3x the runtime; 60 %
// submitted at site a (partition 0).
SwfTrace generated_trace(std::size_t n, std::uint64_t seed) {
    Rng rng(seed);
    std::string text;
    double t = 0;
    for (std::size_t i = 1; i <= n; ++i) {
        t += -60.0 * std::log(1.0 - rng.uniform());
        const double run = std::clamp(1200.0 * std::exp(0.8 * rng.normal()), 30.0, 6.0 * 3600);
        const unsigned cores = 1u << rng.below(4);
        const double req = run * (1.0 + 2.0 * rng.uniform());
        const unsigned part = rng.uniform() < 0.6 ? 0 : static_cast<unsigned>(1 + rng.below(3));
        text += fmt::format("{} {:.0f} -1 {:.0f} {} -1 -1 {} {:.0f} -1 1 1 1 -1 -1 {} -1 -1\n", i,
                            t, run, cores, cores, req, part);
    }
    return parse_swf(text, "generated.swf");
}

Summary run(const Federation& fed, const std::vector<SimJob>& jobs, const std::string& policy) {
    PlacerContext ctx;
    ctx.federation = &fed;
    ctx.seed = 5;
    const Network net = make_network(fed, policies::link_matrix(fed, nullptr, 0));
    auto placer = make_placer(policy, ctx);
    return summarise(simulate(fed, net, jobs, *placer), jobs, fed);
}

}  // namespace

TEST_CASE("data-heavy mix: the network-aware policy beats earliest-start on turnaround", "[sim]") {
    REQUIRE_FALSE(engine_policy_names({}).empty());
    const Federation fed = federation();
    // Every job reads 1-2 datasets of ~30 GB (lognormal), mostly at its home site, and writes ~2
    // GB.
    const auto model = parse_data_model(R"(
home: {from: partition}
inputs:
  count: {dist: uniform, min: 1, max: 2}
  size: {dist: lognormal, median: 30G, sigma: 0.7, max: 500G}
  at_home: 0.8
outputs:
  size: {dist: lognormal, median: 2G, sigma: 0.5}
)",
                                        "data-heavy.yaml", fed);
    const auto jobs = build_workload(generated_trace(1500, 42), fed, model, 42);
    const Summary es = run(fed, jobs, "earliest-start");
    const Summary np = run(fed, jobs, "fastest");
    INFO(fmt::format(
        "earliest-start: mean turnaround {:.0f} s, WAN {} B; fastest: {:.0f} s, WAN {} B",
        es.mean_turnaround_s, es.wan_bytes, np.mean_turnaround_s, np.wan_bytes));
    CHECK(np.mean_turnaround_s < es.mean_turnaround_s);
    CHECK(np.rejected == 0);
    CHECK(es.rejected == 0);
}

TEST_CASE("compute-only mix: the network-aware policy is within 2 % of earliest-start", "[sim]") {
    REQUIRE_FALSE(engine_policy_names({}).empty());
    const Federation fed = federation();
    const auto model = parse_data_model("home: {from: partition}\n", "compute-only.yaml", fed);
    const auto jobs = build_workload(generated_trace(1500, 42), fed, model, 42);
    const Summary es = run(fed, jobs, "earliest-start");
    const Summary np = run(fed, jobs, "fastest");
    INFO(fmt::format("earliest-start: mean turnaround {:.0f} s; fastest: {:.0f} s",
                     es.mean_turnaround_s, np.mean_turnaround_s));
    CHECK(np.wan_bytes == 0);
    CHECK(np.mean_turnaround_s <= 1.02 * es.mean_turnaround_s);
}
