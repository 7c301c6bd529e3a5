// Discovery and plans on real hwloc exports from ../shared/data/hwloc (skipped when absent).
// Expected values are read off `lstopo-no-graphics --input FILE -p --filter io:all` by hand.
#include "../support/shared_data.hpp"
#include "netplace/topology/node.hpp"
#include "netplace/topology/plan.hpp"

#include <catch2/catch.hpp>

#include <sched.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

using namespace netplace;

namespace {

#define NEED_XML(var, name) \
    const auto var = std::optional<std::string>(test::shared_data_or_skip("hwloc/" name))

}  // namespace

TEST_CASE("JUWELS Booster: 4 tasks x 1 GPU sit on their GPU's NUMA node with the HCA on its switch",
          "[topology][plan][xml]") {
    NEED_XML(path, "psmgmt-topo.jwb0004.xml");
    const NodeTopology t = topology::load_xml(*path);
    CHECK(t.packages == 2);
    CHECK(t.cpu_numa_count() == 8);
    CHECK(t.cores.size() == 48);
    CHECK(t.pus == 96);
    REQUIRE(t.gpus.size() == 4);  // the ASPEED VGA at 62:00.0 is not one of them
    for (const auto& g : t.gpus) CHECK(g.pci.bus_id != "0000:62:00.0");
    const auto p = topology::plan_tasks(t, 4, 1);
    // lstopo: 03:00.0 (3D) and 04:00.0 (mlx5_0) behind one switch under NUMANode P#3 (PUs
    // 18-23,66-71); 44:00.0 + 43:00.0 (mlx5_1) under P#1 (6-11,54-59); 84:00.0 + 83:00.0 (mlx5_2)
    // under P#7 (42-47,90-95); c4:00.0 + c3:00.0 (mlx5_3) under P#5 (30-35,78-83).
    const char* bus[] = {"0000:03:00.0", "0000:44:00.0", "0000:84:00.0", "0000:c4:00.0"};
    const char* local[] = {"18-23,66-71", "6-11,54-59", "42-47,90-95", "30-35,78-83"};
    const char* hca[] = {"mlx5_0", "mlx5_1", "mlx5_2", "mlx5_3"};
    const unsigned numa[] = {3, 1, 7, 5};
    for (unsigned r = 0; r < 4; ++r) {
        CHECK(p[r].gpus == std::vector<std::string>{bus[r]});
        CHECK(p[r].cpus == parse_cpulist(local[r]));
        CHECK(p[r].nics == std::vector<std::string>{hca[r]});
        CHECK(p[r].numa == numa[r]);
    }
}

TEST_CASE("DGX-2: all 16 V100s, NVSwitches are not GPUs", "[topology][xml]") {
    NEED_XML(path, "hwloc-nvidiaDGX2.xml");
    const NodeTopology t = topology::load_xml(*path);
    REQUIRE(t.gpus.size() == 16);
    for (unsigned i = 0; i < 16; ++i)
        CHECK(t.gpus[i].os_devices == std::vector<std::string>{"nvml" + std::to_string(i)});
    CHECK(t.gpus[0].numa == 0u);
    CHECK(t.gpus[15].numa == 1u);
    // Topology restricted to 2 cores per package: 16 ranks cannot each get a core...
    CHECK_THROWS_WITH(topology::plan_tasks(t, 16, 1), Catch::Contains("16 tasks but only 4 cores"));
    // ...but 4 ranks spread over the GPUs (0, 4, 8, 12) get one core each near their GPU.
    const auto p = topology::plan_tasks(t, 4, 1);
    CHECK(p[0].gpu_indices == std::vector<unsigned>{0});
    CHECK(p[1].gpu_indices == std::vector<unsigned>{4});
    CHECK(p[0].cpus == parse_cpulist("0"));
    CHECK(p[1].cpus == parse_cpulist("1"));
    CHECK(p[2].cpus == parse_cpulist("24"));
    CHECK(p[3].cpus == parse_cpulist("25"));
}

TEST_CASE("memory-only NUMA nodes are reported apart from CPU NUMA nodes", "[topology][xml]") {
    NEED_XML(path, "hwloc-sysfs-nvidiagpunumanodes.kept.gen.xml");
    const NodeTopology t = topology::load_xml(*path);
    CHECK(t.numa_nodes.size() == 8);
    CHECK(t.cpu_numa_count() == 2);
    for (const auto& n : t.numa_nodes)
        if (!n.cpu_attached) CHECK(n.subtype == "GPUMemory");
    CHECK(t.gpus.size() == 6);  // vendor ids absent in the dump; the GPU memory nodes name them
    NEED_XML(knl, "psmgmt-topo.knl05_v2_4.xml");
    const NodeTopology k = topology::load_xml(*knl);
    CHECK(k.numa_nodes.size() == 8);
    CHECK(k.cpu_numa_count() == 4);  // NUMA 4-7 are MCDRAM (flat mode), no CPUs of their own
    CHECK(k.numa_distance(0, 4) == 31u);
}

TEST_CASE("live host: counts agree with the CPUs this process may use", "[topology][live]") {
    const NodeTopology t = topology::load_host();
    cpu_set_t set;
    CPU_ZERO(&set);
    REQUIRE(sched_getaffinity(0, sizeof set, &set) == 0);
    CHECK(t.pus == static_cast<unsigned>(CPU_COUNT(&set)));  // what nproc prints
    CHECK(t.cpu_numa_count() >= 1);
    CHECK(!t.cores.empty());
    size_t pus = 0;
    for (const auto& c : t.cores) pus += c.pus.size();
    CHECK(pus == t.pus);
    // The XML export reloads to the same node (what the SPANK plugin's cache relies on).
    const auto file = std::filesystem::temp_directory_path() /
                      ("netplace-host-" + std::to_string(::getpid()) + ".xml");
    {
        std::ofstream out(file);
        out << topology::host_xml();
    }
    const NodeTopology x = topology::load_xml(file.string());
    std::filesystem::remove(file);
    CHECK(x.pus == t.pus);
    CHECK(x.cores.size() == t.cores.size());
    CHECK(x.cpu_numa_count() == t.cpu_numa_count());
    CHECK(x.nics.size() == t.nics.size());
    CHECK(x.gpus.size() == t.gpus.size());
}

TEST_CASE("JUWELS Booster: two ranks per GPU share its NUMA node, two GPUs per rank keep both HCAs",
          "[topology][plan][xml]") {
    NEED_XML(path, "psmgmt-topo.jwb0004.xml");
    const NodeTopology t = topology::load_xml(*path);
    // lstopo: NUMANode P#3 holds Cores P#24-26 (PUs 18-20 + 66-68) and P#28-30 (21-23 + 69-71).
    const auto p = topology::plan_tasks(t, 8, 1);
    CHECK(p[0].cpus == parse_cpulist("18-20,66-68"));
    CHECK(p[1].cpus == parse_cpulist("21-23,69-71"));
    CHECK(p[0].gpus == p[1].gpus);
    CHECK(p[1].nics == std::vector<std::string>{"mlx5_0"});
    CHECK(p[2].gpus == std::vector<std::string>{"0000:44:00.0"});
    CHECK(p[2].cpus == parse_cpulist("6-8,54-56"));
    CHECK(p[2].nics == std::vector<std::string>{"mlx5_1"});
    // Per package: the A100s of NUMA 1 and 3 together, their cores and both their HCAs.
    const auto q = topology::plan_tasks(t, 2, 2);
    CHECK(q[0].gpus == std::vector<std::string>{"0000:03:00.0", "0000:44:00.0"});
    CHECK(q[0].cpus == parse_cpulist("6-11,18-23,54-59,66-71"));
    CHECK(q[0].nics == std::vector<std::string>{"mlx5_0", "mlx5_1"});
    CHECK(q[0].numa == 1u);
    CHECK(q[1].gpus == std::vector<std::string>{"0000:84:00.0", "0000:c4:00.0"});
    CHECK(q[1].nics == std::vector<std::string>{"mlx5_2", "mlx5_3"});
    // 48 ranks: 12 per GPU but 6 cores per GPU NUMA node; the rest borrow the GPU-less nodes'.
    const auto r = topology::plan_tasks(t, 48, 1);
    CpuList all;
    for (const auto& x : r) {
        CHECK(x.cpus.size() == 2);
        all.insert(all.end(), x.cpus.begin(), x.cpus.end());
    }
    std::sort(all.begin(), all.end());
    CHECK(all == parse_cpulist("0-95"));
    CHECK(r[0].cpus == parse_cpulist("18,66"));
    CHECK(r[0].numa == 3u);
}
