// gres.conf generation: GPU type names, NIC uverbs numbering, folding identical nodes. The real
// exports' Cores= are checked against hwloc-calc and parsed by a real slurmd in
// tests/integration/fabric; here the rules on hand-made values.
#include "netplace/fabric/gres.hpp"
#include "netplace/topology/node.hpp"

#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>

#include "../support/temp_dir.hpp"

using namespace netplace;
using namespace netplace::fabric;

namespace {

NodeTopology node() {
    NodeTopology t;
    t.packages = 1;
    t.pus = 4;
    for (unsigned c = 0; c < 4; ++c) t.cores.push_back({c, 0, 0u, {c}});
    Gpu g;
    g.pci.bus_id = "0000:03:00.0";
    g.vendor = "nvidia";
    g.model = "Tesla V100-SXM3-32GB-H";
    g.cpus = {0, 1};
    t.gpus.push_back(g);
    Nic roce;  // an Ethernet port with RDMA comes first in PCI order: it takes uverbs0
    roce.pci.bus_id = "0000:21:00.0";
    roce.kind = NicKind::ethernet;
    roce.rdma_devices = {"mlx5_0"};
    roce.cpus = {0, 1, 2, 3};
    t.nics.push_back(roce);
    Nic ib;
    ib.pci.bus_id = "0000:21:00.1";
    ib.kind = NicKind::infiniband;
    ib.fabric = true;
    ib.rdma_devices = {"mlx5_1"};
    ib.cpus = {2, 3};
    t.nics.push_back(ib);
    return t;
}

}  // namespace

TEST_CASE("gres type names from GPU models", "[fabric]") {
    CHECK(gres_type("NVIDIA A100-SXM4-40GB") == "a100");
    CHECK(gres_type("Tesla V100-SXM3-32GB-H") == "v100");
    CHECK(gres_type("NVIDIA H200") == "h200");
    CHECK(gres_type("GA100 [A100 SXM4 40GB]") == "a100");
    CHECK(gres_type("Vega 20 [Radeon Instinct MI50 32GB]") == "mi50");
    CHECK(gres_type("NVIDIA GeForce RTX 4090") == "rtx4090");
    CHECK(gres_type("Quadro RTX 8000") == "rtx8000");
    CHECK(gres_type("").empty());
}

TEST_CASE("gres lines: GPU and fabric NIC with their cores, RoCE ports skipped but counted",
          "[fabric]") {
    auto g = node_gres("n1", node(), {});
    REQUIRE(g.lines.size() == 2);
    CHECK(g.lines[0] == "Name=gpu Type=v100 File=/dev/nvidia0 Cores=0-1");
    CHECK(g.lines[1] == "Name=nic File=/dev/infiniband/uverbs1 Cores=2-3");
    CHECK(g.notes.size() == 2);  // minors and uverbs guessed from PCI order

    // The live mapping wins, --type overrides, --dev-root prefixes, --no-nics drops NICs.
    GresOptions o;
    o.type = "v100l";
    o.dev_root = "/tmp/x";
    g = node_gres("n1", node(), o, {{"mlx5_0", 0}, {"mlx5_1", 7}});
    CHECK(g.lines[0] == "Name=gpu Type=v100l File=/tmp/x/dev/nvidia0 Cores=0-1");
    CHECK(g.lines[1] == "Name=nic File=/tmp/x/dev/infiniband/uverbs7 Cores=2-3");
    CHECK(g.notes.size() == 1);
    o.nics = false;
    CHECK(node_gres("n1", node(), o).lines.size() == 1);
}

TEST_CASE("gres.conf folds identical nodes into hostlists and prints slurm.conf Gres=",
          "[fabric]") {
    std::vector<NodeGres> nodes;
    for (const char* n : {"node002", "node001", "node003"})
        nodes.push_back(node_gres(n, node(), {}));
    NodeTopology other = node();
    other.gpus.clear();
    nodes.push_back(node_gres("cpu01", other, {}));
    CHECK(gres_conf(nodes, "#h\n") ==
          "#h\n"
          "NodeName=node[001-003] Name=gpu Type=v100 File=/dev/nvidia0 Cores=0-1\n"
          "NodeName=node[001-003] Name=nic File=/dev/infiniband/uverbs1 Cores=2-3\n"
          "NodeName=cpu01 Name=nic File=/dev/infiniband/uverbs1 Cores=2-3\n"
          "# slurm.conf:\n"
          "#   GresTypes=gpu,nic\n"
          "#   NodeName=node[001-003] Gres=gpu:v100:1,nic:1\n"
          "#   NodeName=cpu01 Gres=nic:1\n");
}

TEST_CASE("live uverbs mapping read from sysfs", "[fabric]") {
    test::TempDir d;
    namespace fs = std::filesystem;
    fs::create_directories(d.path / "class/infiniband/mlx5_0/device/infiniband_verbs/uverbs1");
    fs::create_directories(d.path / "class/infiniband/mlx5_1/device/infiniband_verbs/uverbs0");
    const auto m = live_uverbs(d.path.string());
    CHECK(m == std::map<std::string, unsigned>{{"mlx5_0", 1}, {"mlx5_1", 0}});
    CHECK(live_uverbs((d.path / "nothing").string()).empty());
}
