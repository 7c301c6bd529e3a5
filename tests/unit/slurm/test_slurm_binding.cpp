// Task binding inside a Slurm step: plans confined to the GPUs Slurm gave the step, checked on
// a real node's topology (JUWELS Booster, 4 A100 + 4 HDR HCAs, from ../shared/data).
#include "../support/shared_data.hpp"
#include "netplace/core/error.hpp"
#include "netplace/slurm/binding.hpp"
#include "netplace/topology/node.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <map>

using namespace netplace;
using namespace netplace::slurm;

namespace {

GetEnv env_of(std::map<std::string, std::string> vars) {
    return [vars](const char* n) -> std::optional<std::string> {
        auto it = vars.find(n);
        return it == vars.end() ? std::nullopt : std::optional<std::string>(it->second);
    };
}

std::string value(const TaskBinding& b, const std::string& key) {
    for (const auto& [k, v] : b.env)
        if (k == key) return v;
    return {};
}

std::optional<std::string> jwb_xml() {
    return test::shared_data_or_skip("hwloc/psmgmt-topo.jwb0004.xml");
}

}  // namespace

TEST_CASE("step GPUs from Slurm's environment", "[slurm]") {
    CHECK_FALSE(step_gpus_from_env(env_of({})));
    CHECK(step_gpus_from_env(env_of({{"SLURM_STEP_GPUS", "2,3"}})) == std::vector<unsigned>{2, 3});
    CHECK(step_gpus_from_env(env_of({{"SLURM_STEP_GPUS", "0-1,3"}})) ==
          std::vector<unsigned>{0, 1, 3});
    // The batch step has only the job's list.
    CHECK(step_gpus_from_env(env_of({{"SLURM_JOB_GPUS", "1"}})) == std::vector<unsigned>{1});
    CHECK(step_gpus_from_env(env_of({{"SLURM_STEP_GPUS", "3"}, {"SLURM_JOB_GPUS", "2,3"}})) ==
          std::vector<unsigned>{3});
    CHECK_FALSE(step_gpus_from_env(env_of({{"SLURM_STEP_GPUS", ""}})));
    try {
        step_gpus_from_env(env_of({{"SLURM_STEP_GPUS", "gpu0"}}));
        FAIL("no error");
    } catch (const Error& e) {
        CHECK_THAT(e.what(), Catch::Contains("SLURM_STEP_GPUS=gpu0: not a list of GPU indexes"));
    }
}

TEST_CASE("binding stays on the GPUs Slurm gave the step", "[slurm]") {
    const auto xml = jwb_xml();
    const NodeTopology t = topology::load_xml(*xml);
    REQUIRE(t.gpus.size() == 4);
    auto none = env_of({});

    // Whole node (GPUs Slurm does not manage): two tasks spread over the GPUs.
    std::vector<unsigned> whole;
    for (unsigned r = 0; r < 2; ++r) {
        auto b = plan_binding(t, Bind::automatic, 2, r, 1u, none);
        REQUIRE(b);
        auto g = planned_gpus(*b);
        REQUIRE(g.size() == 1);
        whole.push_back(g[0]);
    }
    CHECK(whole[0] != whole[1]);

    // Another job holds GPUs 0 and 1: the step's tasks get 2 and 3, each with cores and an HCA
    // on its GPU's NUMA node (as hwloc places them), and the GPU's own PCI address.
    const std::vector<unsigned> step = {2, 3};
    std::vector<unsigned> got;
    for (unsigned r = 0; r < 2; ++r) {
        auto b = plan_binding(t, Bind::automatic, 2, r, 1u, none, step);
        REQUIRE(b);
        auto g = planned_gpus(*b);
        REQUIRE(g.size() == 1);
        got.push_back(g[0]);
        const Gpu& gpu = t.gpus[g[0]];
        CHECK(value(*b, "NETPLACE_GPU_PCI") == gpu.pci.bus_id);
        REQUIRE(gpu.numa);
        CHECK(value(*b, "NETPLACE_NUMA") == std::to_string(*gpu.numa));
        const auto& cpus = t.numa_nodes[static_cast<size_t>(t.numa_position(*gpu.numa))].cpus;
        for (unsigned c : b->cpus) CHECK(std::binary_search(cpus.begin(), cpus.end(), c));
        const std::string nic = value(*b, "NETPLACE_NIC");
        bool same_numa = false;
        for (const auto& n : t.nics)
            if (std::find(n.os_devices.begin(), n.os_devices.end(), nic) != n.os_devices.end())
                same_numa = n.numa == gpu.numa;
        CHECK(same_numa);
    }
    std::sort(got.begin(), got.end());
    CHECK(got == step);

    // One task with both of the step's GPUs.
    auto both = plan_binding(t, Bind::gpu_nic, 1, 0, std::nullopt, none, step);
    REQUIRE(both);
    CHECK(planned_gpus(*both) == step);

    // A GPU index the topology does not have: gres.conf and the node disagree.
    try {
        plan_binding(t, Bind::automatic, 1, 0, 1u, none, std::vector<unsigned>{7});
        FAIL("no error");
    } catch (const Error& e) {
        CHECK_THAT(e.what(), Catch::Contains("Slurm gave the step GPU 7, but the node topology"));
        CHECK_THAT(e.what(), Catch::Contains("has 4 GPU(s)"));
    }
}

TEST_CASE("binding stays on the cores Slurm gave the step", "[slurm]") {
    const auto xml = jwb_xml();
    const NodeTopology t = topology::load_xml(*xml);
    auto none = env_of({});
    // Cores 30-35 of the node (Slurm numbers cores socket-major, as hwloc's logical order does).
    std::vector<unsigned> step_cores = {30, 31, 32, 33, 34, 35};
    CpuList allowed;
    for (unsigned c : step_cores)
        allowed.insert(allowed.end(), t.cores[c].pus.begin(), t.cores[c].pus.end());
    std::sort(allowed.begin(), allowed.end());
    CpuList used;
    for (unsigned r = 0; r < 3; ++r) {
        auto b = plan_binding(t, Bind::numa, 3, r, std::nullopt, none, std::nullopt, step_cores);
        REQUIRE(b);
        REQUIRE_FALSE(b->cpus.empty());
        for (unsigned c : b->cpus) {
            CHECK(std::binary_search(allowed.begin(), allowed.end(), c));
            CHECK(std::find(used.begin(), used.end(), c) == used.end());
            used.push_back(c);
        }
    }
    // GPU tasks on a share of the node: cores from the step's share even if the GPU's own NUMA
    // node has none in it.
    auto g = plan_binding(t, Bind::automatic, 1, 0, 1u, none, std::vector<unsigned>{0}, step_cores);
    REQUIRE(g);
    for (unsigned c : g->cpus) CHECK(std::binary_search(allowed.begin(), allowed.end(), c));
    CHECK(planned_gpus(*g) == std::vector<unsigned>{0});

    // Overcommitted (more tasks than the step's cores): auto leaves tasks alone, an explicit
    // binding says why it cannot.
    const std::vector<unsigned> one = {5};
    CHECK_FALSE(plan_binding(t, Bind::automatic, 2, 0, std::nullopt, none, std::nullopt, one));
    try {
        plan_binding(t, Bind::numa, 2, 0, std::nullopt, none, std::nullopt, one);
        FAIL("no error");
    } catch (const Error& e) {
        CHECK_THAT(e.what(),
                   Catch::Contains("2 tasks but the step has 1 core(s) on this node (5)"));
    }
    try {
        plan_binding(t, Bind::numa, 1, 0, std::nullopt, none, std::nullopt,
                     std::vector<unsigned>{500});
        FAIL("no error");
    } catch (const Error& e) {
        CHECK_THAT(e.what(), Catch::Contains("Slurm gave the step core 500"));
    }
}
