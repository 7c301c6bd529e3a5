// Planner cases on hwloc synthetic topologies. Synthetic descriptions carry no PCI devices, so
// GPUs and NICs are added as plain values with the localities a real board would give them;
// every expected CPU list below is worked out by hand from the synthetic layout (hwloc numbers
// PUs 0.. in order: "pack:2 numa:2 core:4 pu:2" puts PUs 8k..8k+7 on NUMA node k).
#include "netplace/core/error.hpp"
#include "netplace/topology/node.hpp"
#include "netplace/topology/plan.hpp"

#include <catch2/catch.hpp>

using namespace netplace;
using netplace::topology::plan_tasks;

namespace {

CpuList cpus(const char* text) { return parse_cpulist(text); }

Gpu gpu(const char* bus, std::vector<std::string> bridges, unsigned numa, unsigned package,
        const char* local) {
    Gpu g;
    g.pci = {bus, std::move(bridges)};
    g.vendor = "nvidia";
    g.os_devices = {"cuda"};
    g.numa = numa;
    g.package = package;
    g.cpus = cpus(local);
    return g;
}

Nic nic(const char* bus, std::vector<std::string> bridges, NicKind kind,
        std::vector<std::string> names, std::vector<std::string> rdma, std::optional<unsigned> numa,
        std::optional<unsigned> package) {
    Nic n;
    n.pci = {bus, std::move(bridges)};
    n.kind = kind;
    n.fabric = kind != NicKind::ethernet && kind != NicKind::other;
    n.os_devices = std::move(names);
    n.rdma_devices = std::move(rdma);
    n.numa = numa;
    n.package = package;
    return n;
}

// 2 packages x 2 NUMA nodes x 4 cores x 2 PUs, one GPU per NUMA node; one HDR HCA per package,
// each behind the PCIe switch of the package's first GPU; an Ethernet port on GPU 1's switch.
NodeTopology four_gpu_node() {
    NodeTopology t = topology::load_synthetic("pack:2 numa:2 core:4 pu:2");
    t.gpus = {gpu("0000:03:00.0", {"0000:00:01.1", "0000:01:00.0", "0000:02:00.0"}, 0, 0, "0-7"),
              gpu("0000:44:00.0", {"0000:40:01.1", "0000:41:00.0", "0000:42:00.0"}, 1, 0, "8-15"),
              gpu("0000:84:00.0", {"0000:80:01.1", "0000:81:00.0", "0000:82:00.0"}, 2, 1, "16-23"),
              gpu("0000:c4:00.0", {"0000:c0:01.1", "0000:c1:00.0", "0000:c2:00.0"}, 3, 1, "24-31")};
    t.nics = {nic("0000:04:00.0", {"0000:00:01.1", "0000:01:00.0", "0000:02:01.0"},
                  NicKind::infiniband, {"ib0", "mlx5_0"}, {"mlx5_0"}, 0, 0),
              nic("0000:45:00.0", {"0000:40:01.1", "0000:41:00.0", "0000:42:01.0"},
                  NicKind::ethernet, {"eth0"}, {}, 1, 0),
              nic("0000:85:00.0", {"0000:80:01.1", "0000:81:00.0", "0000:82:01.0"},
                  NicKind::infiniband, {"ib1", "mlx5_1"}, {"mlx5_1"}, 2, 1)};
    return t;
}

}  // namespace

TEST_CASE("synthetic topologies load with the counts of their description", "[topology]") {
    const NodeTopology t = topology::load_synthetic("pack:2 numa:2 core:4 pu:2");
    CHECK(t.packages == 2);
    CHECK(t.cpu_numa_count() == 4);
    CHECK(t.cores.size() == 16);
    CHECK(t.pus == 32);
    REQUIRE(t.numa_nodes.size() == 4);
    CHECK(t.numa_nodes[2].cpus == cpus("16-23"));
    CHECK(t.numa_nodes[2].package == 1u);
    CHECK(t.cores[5].pus == cpus("10-11"));
    CHECK(t.cores[5].numa == 1u);
    CHECK(t.gpus.empty());
    CHECK_THROWS_WITH(topology::load_synthetic("pack:2 bogus:3"),
                      Catch::Contains("synthetic topology 'pack:2 bogus:3': invalid description"));
    CHECK_THROWS_AS(topology::load_synthetic(""), Error);
    CHECK_THROWS_WITH(topology::load_xml("/nonexistent/node.xml"),
                      Catch::Contains("hwloc XML '/nonexistent/node.xml': cannot read it"));
}

TEST_CASE("CPU-only ranks spread over NUMA nodes in contiguous blocks", "[topology][plan]") {
    const NodeTopology t = topology::load_synthetic("pack:2 numa:2 core:4 pu:2");
    SECTION("one rank per NUMA node gets the whole node") {
        const auto p = plan_tasks(t, 4, 0);
        REQUIRE(p.size() == 4);
        for (unsigned r = 0; r < 4; ++r) {
            CHECK(p[r].rank == r);
            CHECK(p[r].cpus ==
                  cpus((std::to_string(8 * r) + "-" + std::to_string(8 * r + 7)).c_str()));
            CHECK(p[r].numa == r);
            CHECK(p[r].gpus.empty());
            CHECK(p[r].nics.empty());
        }
    }
    SECTION("two ranks per NUMA node split its cores evenly") {
        const auto p = plan_tasks(t, 8, 0);
        CHECK(p[0].cpus == cpus("0-3"));
        CHECK(p[1].cpus == cpus("4-7"));
        CHECK(p[1].numa == 0u);
        CHECK(p[2].cpus == cpus("8-11"));
        CHECK(p[7].cpus == cpus("28-31"));
        CHECK(p[7].numa == 3u);
    }
    SECTION("fewer ranks than NUMA nodes: one per package") {
        const auto p = plan_tasks(t, 2, 0);
        CHECK(p[0].cpus == cpus("0-7"));
        CHECK(p[0].numa == 0u);
        CHECK(p[1].cpus == cpus("16-23"));
        CHECK(p[1].numa == 2u);
    }
    SECTION("uneven counts: blocks differ by at most one rank, cores by at most one") {
        // 6 ranks over 4 nodes: 2,1,2,1 ranks; 2-rank nodes split 4 cores as 2+2.
        const auto p = plan_tasks(t, 6, 0);
        CHECK(p[0].cpus == cpus("0-3"));
        CHECK(p[1].cpus == cpus("4-7"));
        CHECK(p[2].cpus == cpus("8-15"));
        CHECK(p[3].cpus == cpus("16-19"));
        CHECK(p[4].cpus == cpus("20-23"));
        CHECK(p[5].cpus == cpus("24-31"));
        // 3 ranks on one node of 4 cores: 2 + 1 + 1 cores.
        const NodeTopology one = topology::load_synthetic("numa:1 core:4 pu:1");
        const auto q = plan_tasks(one, 3, 0);
        CHECK(q[0].cpus == cpus("0-1"));
        CHECK(q[1].cpus == cpus("2"));
        CHECK(q[2].cpus == cpus("3"));
    }
    SECTION("as many ranks as cores: one core each, all disjoint") {
        const auto p = plan_tasks(t, 16, 0);
        CpuList all;
        for (const auto& r : p) {
            CHECK(r.cpus.size() == 2);
            all.insert(all.end(), r.cpus.begin(), r.cpus.end());
        }
        std::sort(all.begin(), all.end());
        CHECK(all == cpus("0-31"));
    }
}

TEST_CASE("impossible plans fail with one clear line", "[topology][plan]") {
    const NodeTopology t = topology::load_synthetic("pack:2 numa:2 core:4 pu:2");
    CHECK_THROWS_WITH(plan_tasks(t, 17, 0), Catch::Contains("17 tasks but only 16 cores"));
    CHECK_THROWS_WITH(plan_tasks(t, 0, 0), Catch::Contains("at least 1"));
    CHECK_THROWS_WITH(plan_tasks(t, 2, 1),
                      Catch::Contains("1 GPU per task requested but the node has no GPUs"));
    const NodeTopology g = four_gpu_node();
    CHECK_THROWS_WITH(plan_tasks(g, 1, 5),
                      Catch::Contains("5 GPUs per task requested but the node has only 4 GPUs"));
    CHECK_THROWS_WITH(plan_tasks(g, 17, 1), Catch::Contains("17 tasks but only 16 cores"));
    try {
        plan_tasks(t, 17, 0);
    } catch (const Error& e) {
        CHECK(std::string(e.what()).find('\n') == std::string::npos);
        CHECK(std::string(e.what()).find("pack:2 numa:2 core:4 pu:2") != std::string::npos);
    }
}

TEST_CASE("tasks = GPUs: each rank gets its GPU's cores and the HCA nearest that GPU",
          "[topology][plan]") {
    const auto p = plan_tasks(four_gpu_node(), 4, 1);
    REQUIRE(p.size() == 4);
    const char* local[] = {"0-7", "8-15", "16-23", "24-31"};
    for (unsigned r = 0; r < 4; ++r) {
        CHECK(p[r].gpu_indices == std::vector<unsigned>{r});
        CHECK(p[r].cpus == cpus(local[r]));
        CHECK(p[r].numa == r);
    }
    CHECK(p[0].gpus == std::vector<std::string>{"0000:03:00.0"});
    // GPU 0 shares a switch with mlx5_0; GPU 1 shares one with an Ethernet port, but fabric
    // NICs win, and mlx5_0 is in its package. Fewer HCAs than GPUs: two GPUs per HCA.
    CHECK(p[0].nics == std::vector<std::string>{"mlx5_0"});
    CHECK(p[1].nics == std::vector<std::string>{"mlx5_0"});
    CHECK(p[2].nics == std::vector<std::string>{"mlx5_1"});
    CHECK(p[3].nics == std::vector<std::string>{"mlx5_1"});
}

TEST_CASE("tasks > GPUs: ranks sharing a GPU split its cores evenly", "[topology][plan]") {
    const NodeTopology t = four_gpu_node();
    const auto p = plan_tasks(t, 8, 1);
    const char* expect[] = {"0-3", "4-7", "8-11", "12-15", "16-19", "20-23", "24-27", "28-31"};
    for (unsigned r = 0; r < 8; ++r) {
        CHECK(p[r].gpu_indices == std::vector<unsigned>{r / 2});
        CHECK(p[r].cpus == cpus(expect[r]));
    }
    // 6 ranks on 4 GPUs: 2,1,2,1 ranks per GPU.
    const auto q = plan_tasks(t, 6, 1);
    const unsigned gpu_of[] = {0, 0, 1, 2, 2, 3};
    for (unsigned r = 0; r < 6; ++r) CHECK(q[r].gpu_indices == std::vector<unsigned>{gpu_of[r]});
    CHECK(q[2].cpus == cpus("8-15"));
    CHECK(q[3].cpus == cpus("16-19"));
}

TEST_CASE("fewer tasks than GPUs spread over the node, several GPUs per task stay together",
          "[topology][plan]") {
    const NodeTopology t = four_gpu_node();
    const auto p = plan_tasks(t, 2, 1);
    CHECK(p[0].gpu_indices == std::vector<unsigned>{0});
    CHECK(p[1].gpu_indices == std::vector<unsigned>{2});
    CHECK(p[1].cpus == cpus("16-23"));
    const auto q = plan_tasks(t, 2, 2);
    CHECK(q[0].gpu_indices == std::vector<unsigned>{0, 1});
    CHECK(q[0].cpus == cpus("0-15"));
    CHECK(q[0].nics == std::vector<std::string>{"mlx5_0"});
    CHECK(q[1].gpu_indices == std::vector<unsigned>{2, 3});
    CHECK(q[1].cpus == cpus("16-31"));
    const auto r = plan_tasks(t, 4, 2);
    CHECK(r[1].gpu_indices == std::vector<unsigned>{0, 1});
    CHECK(r[1].cpus == cpus("8-15"));
}

TEST_CASE("NIC choice: switch, then NUMA, then package, then NUMA distance, ties shared out",
          "[topology][plan]") {
    NodeTopology t = topology::load_synthetic("pack:2 numa:2 core:4 pu:2");
    t.gpus = {gpu("0000:03:00.0", {"0000:00:01.1"}, 0, 0, "0-7"),
              gpu("0000:04:00.0", {"0000:00:01.2"}, 0, 0, "0-7")};
    SECTION("equally near HCAs are shared out, not piled on one") {
        t.nics = {nic("0000:05:00.0", {"0000:00:01.3"}, NicKind::infiniband, {"ib0", "mlx5_0"},
                      {"mlx5_0"}, 0, 0),
                  nic("0000:05:00.1", {"0000:00:01.3"}, NicKind::infiniband, {"ib1", "mlx5_1"},
                      {"mlx5_1"}, 0, 0)};
        const auto p = plan_tasks(t, 2, 1);
        CHECK(p[0].nics == std::vector<std::string>{"mlx5_0"});
        CHECK(p[1].nics == std::vector<std::string>{"mlx5_1"});
        // Both ranks share NUMA 0's 4 cores.
        CHECK(p[0].cpus == cpus("0-3"));
        CHECK(p[1].cpus == cpus("4-7"));
    }
    SECTION("same NUMA node beats same package") {
        t.nics = {nic("0000:45:00.0", {"0000:40:01.1"}, NicKind::infiniband, {"ib0", "mlx5_0"},
                      {"mlx5_0"}, 1, 0),
                  nic("0000:05:00.0", {"0000:00:02.0"}, NicKind::infiniband, {"ib1", "mlx5_1"},
                      {"mlx5_1"}, 0, 0)};
        CHECK(plan_tasks(t, 1, 1)[0].nics == std::vector<std::string>{"mlx5_1"});
    }
    SECTION("another package: the smallest NUMA distance wins") {
        t.numa_distances = {10, 12, 32, 21,  //
                            12, 10, 32, 32,  //
                            32, 32, 10, 12,  //
                            21, 32, 12, 10};
        t.nics = {nic("0000:85:00.0", {"0000:80:01.1"}, NicKind::slingshot, {"hsn0"}, {}, 2, 1),
                  nic("0000:c5:00.0", {"0000:c0:01.1"}, NicKind::slingshot, {"hsn1"}, {}, 3, 1)};
        CHECK(plan_tasks(t, 1, 1)[0].nics == std::vector<std::string>{"hsn1"});
        // CPU-only ranks measure from their NUMA node the same way.
        const auto p = plan_tasks(t, 4, 0);
        CHECK(p[0].nics == std::vector<std::string>{"hsn1"});
        CHECK(p[2].nics == std::vector<std::string>{"hsn0"});
        CHECK(p[3].nics == std::vector<std::string>{"hsn1"});
    }
    SECTION("no fabric NIC at all: the nearest Ethernet interface") {
        t.nics = {nic("0000:03:00.1", {"0000:00:01.1"}, NicKind::ethernet, {"eno1"}, {}, 0, 0),
                  nic("0000:85:00.0", {"0000:80:01.1"}, NicKind::ethernet, {"eno2"}, {}, 2, 1)};
        CHECK(plan_tasks(t, 1, 1)[0].nics == std::vector<std::string>{"eno1"});
    }
}

TEST_CASE("more ranks on a GPU than its local cores borrow the nearest free cores",
          "[topology][plan]") {
    NodeTopology t = topology::load_synthetic("pack:2 numa:1 core:2 pu:1");
    t.gpus = {gpu("0000:03:00.0", {"0000:00:01.1"}, 0, 0, "0-1")};
    const auto p = plan_tasks(t, 4, 1);
    for (unsigned r = 0; r < 4; ++r) {
        CHECK(p[r].gpu_indices == std::vector<unsigned>{0});
        CHECK(p[r].cpus == CpuList{r});
    }
    CHECK(p[0].numa == 0u);
    CHECK(p[3].numa == 1u);
}
