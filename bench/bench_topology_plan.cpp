// Plan latency: the SPANK plugin calls plan_tasks in task_init, once per task, so it must stay
// in microseconds. Also times XML loading (done once per step, outside the hot path).
#include "netplace/topology/node.hpp"
#include "netplace/topology/plan.hpp"

#include <benchmark/benchmark.h>

#include <cstdlib>
#include <filesystem>
#include <map>

namespace {

std::string shared(const char* name) {
    const char* env = std::getenv("NETPLACE_SHARED_DATA");
    return (std::filesystem::path(env && *env ? env : NETPLACE_SHARED_DATA) / "hwloc" / name)
        .string();
}

const netplace::NodeTopology* topo(const std::string& key) {
    static std::map<std::string, netplace::NodeTopology> cache;
    if (auto it = cache.find(key); it != cache.end()) return &it->second;
    try {
        auto t = key.rfind("synthetic:", 0) == 0
                     ? netplace::topology::load_synthetic(key.substr(10))
                     : netplace::topology::load_xml(shared(key.c_str()));
        return &cache.emplace(key, std::move(t)).first->second;
    } catch (const std::exception&) {
        return nullptr;
    }
}

void plan(benchmark::State& state, const char* key, unsigned tasks, unsigned gpus) {
    const auto* t = topo(key);
    if (!t) {
        state.SkipWithError("topology not available (NETPLACE_SHARED_DATA/hwloc)");
        return;
    }
    for (auto _ : state) benchmark::DoNotOptimize(netplace::topology::plan_tasks(*t, tasks, gpus));
}

void load(benchmark::State& state, const char* name) {
    const std::string path = shared(name);
    if (!std::filesystem::exists(path)) {
        state.SkipWithError("XML not available");
        return;
    }
    for (auto _ : state) benchmark::DoNotOptimize(netplace::topology::load_xml(path));
}

BENCHMARK_CAPTURE(plan, jwb0004_4x1, "psmgmt-topo.jwb0004.xml", 4, 1)
    ->Unit(benchmark::kMicrosecond);
BENCHMARK_CAPTURE(plan, jwb0004_48x1, "psmgmt-topo.jwb0004.xml", 48, 1)
    ->Unit(benchmark::kMicrosecond);
BENCHMARK_CAPTURE(plan, jwb0004_48x0, "psmgmt-topo.jwb0004.xml", 48, 0)
    ->Unit(benchmark::kMicrosecond);
BENCHMARK_CAPTURE(plan, dgx2_4x1, "hwloc-nvidiaDGX2.xml", 4, 1)->Unit(benchmark::kMicrosecond);
BENCHMARK_CAPTURE(plan, dgx2_2x8, "hwloc-nvidiaDGX2.xml", 2, 8)->Unit(benchmark::kMicrosecond);
BENCHMARK_CAPTURE(plan, jrc0732_128x0, "psmgmt-topo.jrc0732.v2conv.xml", 128, 0)
    ->Unit(benchmark::kMicrosecond);
BENCHMARK_CAPTURE(plan, uv2000_192x0, "hwloc-192em64t-24n8c2t.xml", 192, 0)
    ->Unit(benchmark::kMicrosecond);
BENCHMARK_CAPTURE(load, jwb0004, "psmgmt-topo.jwb0004.xml")->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(load, dgx2, "hwloc-nvidiaDGX2.xml")->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
