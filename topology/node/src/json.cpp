#include "netplace/topology/json.hpp"

namespace netplace::topology {
namespace {

nlohmann::json opt(const std::optional<unsigned>& v) {
    return v ? nlohmann::json(*v) : nlohmann::json(nullptr);
}

}  // namespace

nlohmann::json to_json(const NodeTopology& topo) {
    nlohmann::json j;
    j["packages"] = topo.packages;
    j["numa_nodes"] = topo.cpu_numa_count();
    j["memory_numa_nodes"] = topo.numa_nodes.size() - topo.cpu_numa_count();
    j["cores"] = topo.cores.size();
    j["pus"] = topo.pus;
    auto& numa = j["numa"] = nlohmann::json::array();
    for (const auto& n : topo.numa_nodes) {
        nlohmann::json e{{"os_index", n.os_index},
                         {"memory_bytes", n.memory_bytes},
                         {"cpu_attached", n.cpu_attached},
                         {"cpus", format_cpulist(n.cpus)},
                         {"package", opt(n.package)}};
        if (!n.subtype.empty()) e["subtype"] = n.subtype;
        if (!n.cpu_attached) e["near_cpus"] = format_cpulist(n.locality);
        if (!n.pci_bus_id.empty()) e["pci"] = n.pci_bus_id;
        numa.push_back(std::move(e));
    }
    if (!topo.numa_distances.empty()) {
        const size_t n = topo.numa_nodes.size();
        auto& m = j["numa_distances"] = nlohmann::json::array();
        for (size_t i = 0; i < n; ++i)
            m.push_back(std::vector<std::uint64_t>(
                topo.numa_distances.begin() + static_cast<long>(i * n),
                topo.numa_distances.begin() + static_cast<long>((i + 1) * n)));
    } else {
        j["numa_distances"] = nullptr;
    }
    auto& gpus = j["gpus"] = nlohmann::json::array();
    for (const auto& g : topo.gpus) {
        nlohmann::json e{{"pci", g.pci.bus_id},
                         {"vendor", g.vendor},
                         {"model", g.model},
                         {"os_devices", g.os_devices},
                         {"numa", opt(g.numa)},
                         {"package", opt(g.package)},
                         {"cpuset", format_cpulist(g.cpus)}};
        // NVML's facts appear only when NVML supplied them (a UUID is always there then), so
        // outputs from hwloc alone (XML exports, nodes without the driver) stay as they were.
        if (!g.uuid.empty()) {
            e["uuid"] = g.uuid;
            e["memory_bytes"] = g.memory_bytes;
            e["device"] = g.minor ? nlohmann::json("/dev/nvidia" + std::to_string(*g.minor))
                                  : nlohmann::json(nullptr);
            auto& links = e["nvlink"] = nlohmann::json::array();
            for (const auto& l : g.nvlink) links.push_back({{"pci", l.pci}, {"links", l.links}});
            auto& mig = e["mig"] = nlohmann::json::array();
            for (const auto& m : g.mig)
                mig.push_back({{"uuid", m.uuid}, {"memory_bytes", m.memory_bytes}});
        }
        gpus.push_back(std::move(e));
    }
    auto& nics = j["nics"] = nlohmann::json::array();
    for (const auto& n : topo.nics) {
        nics.push_back({{"pci", n.pci.bus_id},
                        {"kind", to_string(n.kind)},
                        {"fabric", n.fabric},
                        {"os_devices", n.os_devices},
                        {"numa", opt(n.numa)},
                        {"package", opt(n.package)},
                        {"cpuset", format_cpulist(n.cpus)}});
    }
    return j;
}

nlohmann::json to_json(const std::vector<TaskPlan>& plan) {
    auto tasks = nlohmann::json::array();
    for (const auto& t : plan) {
        tasks.push_back({{"rank", t.rank},
                         {"cpus", format_cpulist(t.cpus)},
                         {"gpus", t.gpus},
                         {"gpu_indices", t.gpu_indices},
                         {"nics", t.nics},
                         {"numa", opt(t.numa)}});
    }
    return {{"tasks", std::move(tasks)}};
}

}  // namespace netplace::topology
