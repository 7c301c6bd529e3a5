// Simulated jobs per second: the full LCG-2005 trace (188,041 jobs) replayed on the 20-site
// example federation (etc/sim/lcg20-federation.yaml) with the example data model and, when the
// shared data has them, Skyplane-measured links. Target: >= 1 M jobs/min, i.e. items_per_second
// >= 16.7k (each simulation runs on one core).
//   build/dev/bench/bench_sim_lcg --benchmark_counters_tabular=true
#include "netplace/core/file.hpp"
#include "netplace/network/federation.hpp"
#include "netplace/network/importers.hpp"
#include "netplace/network/link_state.hpp"
#include "netplace/policies/load_inputs.hpp"
#include "netplace/sim/metrics.hpp"
#include "netplace/sim/placers.hpp"
#include "netplace/sim/simulator.hpp"
#include "netplace/sim/swf.hpp"
#include "netplace/sim/workload.hpp"

#include <benchmark/benchmark.h>

#include <cstdlib>
#include <filesystem>
#include <iostream>

using namespace netplace;
using namespace netplace::sim;

namespace {

std::string shared(const std::string& rel) {
    const char* env = std::getenv("NETPLACE_SHARED_DATA");
    return std::string(env ? env : NETPLACE_SHARED_DATA) + "/" + rel;
}

struct Setup {
    Federation fed;
    policies::LinkMatrix links;
    Network net;
    std::vector<SimJob> jobs;
    bool ok = false;
};

const Setup& setup() {
    static Setup s = [] {
        Setup r;
        const std::string trace = shared("workloads/cloudsimplus-LCG-2005-1.swf.gz");
        if (!std::filesystem::exists(trace)) return r;
        r.fed = network::load_federation(std::string(NETPLACE_SOURCE_DIR) +
                                         "/etc/sim/lcg20-federation.yaml");
        network::LinkState st;
        for (const char* csv : {"network/skyplane-throughput.csv", "network/skyplane-latency.csv"})
            if (std::filesystem::exists(shared(csv)))
                network::apply_imports(
                    st, network::import_csv(file::read_all(shared(csv)), csv, r.fed, 0),
                    r.fed.probing);
        r.links = policies::link_matrix(r.fed, &st, 0);
        r.net = make_network(r.fed, r.links);
        const auto model = load_data_model(
            std::string(NETPLACE_SOURCE_DIR) + "/etc/sim/lcg-data-model.yaml", r.fed);
        r.jobs = build_workload(read_swf(trace), r.fed, model, 2005);
        r.ok = true;
        return r;
    }();
    return s;
}

void BM_ParseLCG(benchmark::State& state) {
    const std::string trace = shared("workloads/cloudsimplus-LCG-2005-1.swf.gz");
    if (!std::filesystem::exists(trace)) {
        state.SkipWithError("LCG-2005 trace not in NETPLACE_SHARED_DATA");
        return;
    }
    std::size_t n = 0;
    for (auto _ : state) {
        const auto t = read_swf(trace);
        n = t.jobs.size();
        benchmark::DoNotOptimize(n);
    }
    state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * n));
}
BENCHMARK(BM_ParseLCG)->Unit(benchmark::kMillisecond);

void BM_SimLCG(benchmark::State& state, const std::string& policy) {
    const Setup& s = setup();
    if (!s.ok) {
        state.SkipWithError("LCG-2005 trace not in NETPLACE_SHARED_DATA");
        return;
    }
    PlacerContext ctx;
    ctx.federation = &s.fed;
    ctx.links = s.links;
    ctx.seed = 2005;
    double turnaround = 0;
    for (auto _ : state) {
        auto placer = make_placer(policy, ctx);
        const SimResult r = simulate(s.fed, s.net, s.jobs, *placer);
        state.PauseTiming();
        turnaround = summarise(r, s.jobs, s.fed).mean_turnaround_s;
        state.ResumeTiming();
    }
    const auto n = static_cast<double>(s.jobs.size());
    state.SetItemsProcessed(static_cast<std::int64_t>(static_cast<double>(state.iterations()) * n));
    state.counters["mean_turnaround_s"] = turnaround;
}

[[maybe_unused]] const bool registered = [] {
    for (const char* p : {"local", "random", "round-robin", "least-loaded", "earliest-start",
                          "data-local", "fastest", "balanced"})
        benchmark::RegisterBenchmark((std::string("BM_SimLCG/") + p).c_str(), BM_SimLCG,
                                     std::string(p))
            ->Unit(benchmark::kMillisecond)
            ->MinTime(2.0);
    return true;
}();

}  // namespace

BENCHMARK_MAIN();
