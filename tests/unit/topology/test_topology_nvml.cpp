// NVML at run time, against the fake library the test suite builds (fake_nvml.cpp: four GPUs,
// one at a bus hwloc does not list, minors reversed, NVLinks 03<->c4 x2 and 44<->99, MIG on c4).
// The GPUs below are hwloc's view of a JUWELS Booster node (PCI ids only, no model).
#include "netplace/fabric/gres.hpp"
#include "netplace/topology/json.hpp"
#include "netplace/topology/nvml.hpp"
#include "netplace/topology/plan.hpp"

#include <catch2/catch.hpp>

#include <stdlib.h>

using namespace netplace;

namespace {

NodeTopology booster() {
    NodeTopology t;
    t.source = "test";
    t.packages = 2;
    t.pus = 8;
    for (unsigned i = 0; i < 4; ++i) {
        NumaNode n;
        n.os_index = i;
        n.cpus = n.locality = {2 * i, 2 * i + 1};
        n.package = i / 2;
        t.numa_nodes.push_back(n);
        for (unsigned k = 0; k < 2; ++k) t.cores.push_back({2 * i + k, i / 2, i, {2 * i + k}});
    }
    const char* buses[4] = {"0000:03:00.0", "0000:44:00.0", "0000:84:00.0", "0000:c4:00.0"};
    for (unsigned i = 0; i < 4; ++i) {
        Gpu g;
        g.pci.bus_id = buses[i];
        g.vendor = "nvidia";
        g.numa = i;
        g.package = i / 2;
        g.cpus = {2 * i, 2 * i + 1};
        t.gpus.push_back(g);
    }
    return t;
}

}  // namespace

TEST_CASE("NVML inventory: model, memory, UUID, minor, NVLink peers, MIG matched by bus id",
          "[topology][nvml]") {
    ::unsetenv("FAKE_NVML_INIT_FAIL");
    NodeTopology t = booster();
    const std::string note = topology::add_nvml_inventory(t, NETPLACE_FAKE_NVML);
    // 84:00.0 is not in NVML (the fake's third GPU is at 99:00.0): one note, the rest filled.
    CHECK(note ==
          "NVML knows 3 of the 4 NVIDIA GPUs hwloc found (by PCI bus id); the others "
          "are shown from PCI only");
    const Gpu& g0 = t.gpus[0];
    CHECK(g0.model == "NVIDIA A100-SXM4-40GB");
    CHECK(g0.memory_bytes == 42949672960ULL);
    CHECK(g0.uuid == "GPU-01111111-2222-3333-4444-555555555555");
    CHECK(g0.minor == 3u);
    CHECK(g0.os_devices == std::vector<std::string>{"nvidia3"});
    REQUIRE(g0.nvlink.size() == 1);  // two active links to c4, the down link to 44 left out
    CHECK(g0.nvlink[0].pci == "0000:c4:00.0");  // NVML's upper-case 8-digit domain normalised
    CHECK(g0.nvlink[0].links == 2);
    CHECK(t.gpus[1].nvlink.at(0).pci == "0000:99:00.0");
    CHECK(t.gpus[2].uuid.empty());  // not in NVML: as hwloc found it
    CHECK(!t.gpus[2].minor);
    const Gpu& g3 = t.gpus[3];
    CHECK(g3.minor == 0u);
    REQUIRE(g3.mig.size() == 2);
    CHECK(g3.mig[1].uuid == "MIG-00000001-aaaa-bbbb-cccc-dddddddddddd");
    CHECK(g3.mig[1].memory_bytes == (10ULL << 30));

    const auto j = topology::to_json(t);
    CHECK(j["gpus"][0]["uuid"] == g0.uuid);
    CHECK(j["gpus"][0]["memory_bytes"] == 42949672960ULL);
    CHECK(j["gpus"][0]["device"] == "/dev/nvidia3");
    CHECK(j["gpus"][0]["nvlink"][0]["pci"] == "0000:c4:00.0");
    CHECK(j["gpus"][3]["mig"].size() == 2);
    CHECK_FALSE(j["gpus"][2].contains("uuid"));  // NVML fields only where NVML gave them

    // gres: Type from the NVML model, File from the minor; the GPU NVML did not know keeps
    // the PCI-order guess (index 2) and a note says so.
    const auto gres = fabric::node_gres("jwb0004", t, {});
    REQUIRE(gres.lines.size() == 4);
    CHECK(gres.lines[0] == "Name=gpu Type=a100 File=/dev/nvidia3 Cores=0-1");
    CHECK(gres.lines[2] == "Name=gpu File=/dev/nvidia2 Cores=4-5");
    CHECK(gres.lines[3] == "Name=gpu Type=a100 File=/dev/nvidia0 Cores=6-7");
    CHECK(gres.count.at("gpu:a100") == 3);
}

TEST_CASE("NVML absent or failing: hwloc's view unchanged, one note", "[topology][nvml]") {
    NodeTopology t = booster();
    std::string note = topology::add_nvml_inventory(t, "/nonexistent/libnvidia-ml.so.1");
    CHECK_THAT(note, Catch::StartsWith("NVML not loaded (/nonexistent/libnvidia-ml.so.1"));
    CHECK(t.gpus[0].model.empty());
    CHECK_FALSE(topology::to_json(t)["gpus"][0].contains("uuid"));

    ::setenv("FAKE_NVML_INIT_FAIL", "1", 1);
    note = topology::add_nvml_inventory(t, NETPLACE_FAKE_NVML);
    ::unsetenv("FAKE_NVML_INIT_FAIL");
    CHECK(note ==
          "NVML did not initialise (RM has detected an NVML/RM version mismatch.): "
          "NVIDIA GPUs shown from PCI only (no model, memory, UUID, NVLink)");
    CHECK(t.gpus[0].uuid.empty());

    // The library comes from $NETPLACE_NVML_LIBRARY when no path is given.
    ::setenv("NETPLACE_NVML_LIBRARY", NETPLACE_FAKE_NVML, 1);
    note = topology::add_nvml_inventory(t);
    ::unsetenv("NETPLACE_NVML_LIBRARY");
    CHECK(t.gpus[0].uuid == "GPU-01111111-2222-3333-4444-555555555555");

    NodeTopology cpu_only = booster();
    cpu_only.gpus.clear();
    CHECK(topology::add_nvml_inventory(cpu_only, "/nonexistent.so").empty());  // nothing to ask
}

TEST_CASE("planner: multi-GPU tasks get NVLinked GPUs before merely near ones",
          "[topology][nvml]") {
    NodeTopology t = booster();
    // By locality, 2 GPUs per task would pair 03+44 (package 0) and 84+c4 (package 1).
    auto plan = topology::plan_tasks(t, 2, 2);
    CHECK(plan[0].gpus == std::vector<std::string>{"0000:03:00.0", "0000:44:00.0"});
    // NVLinks 03<->84 and 44<->c4 cross the packages: those pairs win.
    t.gpus[0].nvlink = {{"0000:84:00.0", 4}};
    t.gpus[2].nvlink = {{"0000:03:00.0", 4}};
    t.gpus[1].nvlink = {{"0000:c4:00.0", 4}};
    plan = topology::plan_tasks(t, 2, 2);
    CHECK(plan[0].gpus == std::vector<std::string>{"0000:03:00.0", "0000:84:00.0"});
    CHECK(plan[1].gpus == std::vector<std::string>{"0000:44:00.0", "0000:c4:00.0"});
    // Links to an NVSwitch (not a GPU) say nothing about pairs: locality again.
    for (auto& g : t.gpus) g.nvlink = {{"0000:b0:00.0", 6}};
    plan = topology::plan_tasks(t, 2, 2);
    CHECK(plan[0].gpus == std::vector<std::string>{"0000:03:00.0", "0000:44:00.0"});
}
