#pragma once
// A compute node's topology as netplace needs it: built by topology/node from hwloc, consumed by
// the affinity planner, the CLI and the SPANK plugin. Plain values; no hwloc types, so the
// planner can run inside slurmstepd without touching hwloc.
#include "netplace/core/cpulist.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace netplace {

struct NumaNode {
    unsigned os_index = 0;
    std::uint64_t memory_bytes = 0;
    CpuList cpus;              // PUs local to this node (empty for memory-only nodes)
    bool cpu_attached = true;  // false: GPU memory / HBM-only / CXL node without CPUs
    std::string subtype;       // hwloc subtype when given ("GPUMemory", "MCDRAM", ...)
    // Memory-only nodes: the PUs hwloc attaches them to (their nearest CPUs); CPU nodes: == cpus.
    CpuList locality;
    std::optional<unsigned> package;  // logical index, when all its PUs sit in one package
    std::string pci_bus_id;           // GPU memory nodes: the GPU owning this memory, when known
};

struct Core {
    unsigned logical_index = 0;
    unsigned package = 0;          // logical index of its package (0 without packages)
    std::optional<unsigned> numa;  // os_index of its CPU NUMA node
    CpuList pus;                   // OS indexes of its hardware threads
};

struct PciLocation {
    std::string bus_id;  // "0000:03:00.0"
    // Bus ids of the PCI-to-PCI bridges above the device, root port first (host bridges have
    // no bus id and are left out). Two devices behind the same PCIe switch (or root port)
    // share a prefix of this path; the longer the shared prefix, the closer they are.
    std::vector<std::string> bridges;
};

// An NVLink of a GPU as NVML reports it: the PCI device at the other end (a GPU or an NVSwitch)
// and how many links run there.
struct NvLinkPeer {
    std::string pci;     // remote bus id, "0000:36:00.0"
    unsigned links = 0;  // active links to it
};

// A MIG instance of a partitioned GPU (NVML): its UUID ("MIG-...") and memory.
struct MigInstance {
    std::string uuid;
    std::uint64_t memory_bytes = 0;
};

struct Gpu {
    PciLocation pci;
    std::string vendor;  // "nvidia" | "amd" | "intel"
    std::string model;   // e.g. "A100-SXM4-40GB" when known
    // From NVML at run time (empty/absent without it): memory, UUID, /dev/nvidiaN minor,
    // NVLink peers and MIG instances.
    std::uint64_t memory_bytes = 0;
    std::string uuid;
    std::optional<unsigned> minor;
    std::vector<NvLinkPeer> nvlink;
    std::vector<MigInstance> mig;
    std::vector<std::string> os_devices;  // cuda0, nvml0, rsmi0, opencl0d0, card0 ...
    std::optional<unsigned> numa;         // os_index of the CPU NUMA node holding its locality
    std::optional<unsigned> package;      // logical index, when its locality is in one package
    CpuList cpus;                         // locality cpuset
};

enum class NicKind { infiniband, slingshot, omnipath, ethernet, other };

struct Nic {
    PciLocation pci;
    NicKind kind = NicKind::other;
    bool fabric = false;                    // high-speed interconnect (IB, OPA, Slingshot)
    std::vector<std::string> os_devices;    // mlx5_0, ib0, hsn0, eth0 ... (hwloc order)
    std::vector<std::string> rdma_devices;  // the OpenFabrics subset of os_devices (mlx5_0, hfi1_0)
    std::optional<unsigned> numa;
    std::optional<unsigned> package;
    CpuList cpus;  // locality cpuset
};

struct NodeTopology {
    std::string source;  // "this host", an XML path or "synthetic:<desc>"
    unsigned packages = 0;
    unsigned pus = 0;
    std::vector<NumaNode> numa_nodes;  // CPU-attached and memory-only, by os_index
    std::vector<Core> cores;           // by logical index; PUs stand in when hwloc has no cores
    std::vector<Gpu> gpus;  // PCI bus id order (the order CUDA_DEVICE_ORDER=PCI_BUS_ID uses)
    std::vector<Nic> nics;  // PCI bus id order
    // Row-major NUMA distances between numa_nodes (same order), when the topology has them.
    std::vector<std::uint64_t> numa_distances;
    // What discovery could not find and why (e.g. NVML absent on an NVIDIA node): for the user,
    // not part of the JSON contract.
    std::vector<std::string> notes;

    unsigned cpu_numa_count() const {
        unsigned n = 0;
        for (const auto& m : numa_nodes) n += m.cpu_attached ? 1 : 0;
        return n;
    }
    // Index into numa_nodes of the node with this os_index, or -1.
    int numa_position(unsigned os_index) const {
        for (size_t i = 0; i < numa_nodes.size(); ++i)
            if (numa_nodes[i].os_index == os_index) return static_cast<int>(i);
        return -1;
    }
    // Distance between two NUMA nodes by os_index, when the matrix is present.
    std::optional<std::uint64_t> numa_distance(unsigned a, unsigned b) const {
        const int i = numa_position(a), j = numa_position(b);
        const size_t n = numa_nodes.size();
        if (i < 0 || j < 0 || numa_distances.size() != n * n) return std::nullopt;
        return numa_distances[static_cast<size_t>(i) * n + static_cast<size_t>(j)];
    }
};

std::string to_string(NicKind kind);

}  // namespace netplace
