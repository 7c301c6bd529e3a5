#pragma once
// A compute node's topology as netplace needs it: built by topology/node from hwloc, consumed by
// the affinity planner, the CLI and the SPANK plugin. Plain values; no hwloc types.
#include "netplace/core/cpulist.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace netplace {

struct NumaNode {
    unsigned os_index = 0;
    std::uint64_t memory_bytes = 0;
    CpuList cpus;               // PUs local to this node (empty for memory-only nodes)
    bool cpu_attached = true;   // false: GPU memory / HBM-only / CXL node without CPUs
    std::string subtype;        // hwloc subtype when given ("GPUMemory", "MCDRAM", ...)
};

struct Core {
    unsigned logical_index = 0;
    unsigned package = 0;                // logical index of its package
    std::optional<unsigned> numa;        // os_index of its CPU NUMA node
    CpuList pus;                         // OS indexes of its hardware threads
};

struct PciLocation {
    std::string bus_id;                  // "0000:03:00.0"
    // Bus ids of the PCI bridges above the device, host bridge first. Two devices share a PCIe
    // switch when they share any non-host bridge in this path.
    std::vector<std::string> bridges;
};

struct Gpu {
    PciLocation pci;
    std::string vendor;                  // "nvidia" | "amd" | "intel"
    std::string model;                   // e.g. "A100-SXM4-40GB" when known
    std::vector<std::string> os_devices; // cuda0, nvml0, rsmi0, opencl0d0, ...
    std::optional<unsigned> numa;        // os_index of the nearest CPU NUMA node
    CpuList cpus;                        // locality cpuset
};

enum class NicKind { infiniband, slingshot, omnipath, ethernet, other };

struct Nic {
    PciLocation pci;
    NicKind kind = NicKind::other;
    bool fabric = false;                 // high-speed interconnect (IB, OPA, Slingshot)
    std::vector<std::string> os_devices; // mlx5_0, ib0, hsn0, eth0 ...
    std::optional<unsigned> numa;
    CpuList cpus;
};

struct NodeTopology {
    std::string source;                  // "this host", an XML path or "synthetic:<desc>"
    unsigned packages = 0;
    unsigned pus = 0;
    std::vector<NumaNode> numa_nodes;    // CPU-attached and memory-only
    std::vector<Core> cores;
    std::vector<Gpu> gpus;
    std::vector<Nic> nics;
    // Row-major NUMA distances between numa_nodes (same order), when the topology has them.
    std::vector<std::uint64_t> numa_distances;

    unsigned cpu_numa_count() const {
        unsigned n = 0;
        for (const auto& m : numa_nodes) n += m.cpu_attached ? 1 : 0;
        return n;
    }
};

std::string to_string(NicKind kind);

}  // namespace netplace
