#pragma once
// Per-task affinity planning: which cores, GPU(s), NIC(s) and NUMA node each local rank of a
// job step gets. Pure function of a NodeTopology; no hwloc, no I/O, so the SPANK plugin can
// call it in task_init.
#include "netplace/core/node.hpp"

#include <optional>
#include <string>
#include <vector>

namespace netplace::topology {

struct TaskPlan {
    unsigned rank = 0;                  // local rank on the node
    CpuList cpus;                       // PUs (OS indexes) of the rank's cores
    std::vector<std::string> gpus;      // PCI bus ids
    std::vector<unsigned> gpu_indices;  // index into NodeTopology::gpus (PCI order)
    std::vector<std::string>
        nics;  // OpenFabrics names (mlx5_0) when the NIC has any, else netdev names
    std::optional<unsigned> numa;  // os_index of the NUMA node holding most of its cores
};

// Plans `tasks` local ranks with `gpus_per_task` GPUs each (0: CPU-only, ranks spread over
// NUMA nodes). Throws netplace::Error for impossible plans: no tasks, more ranks than cores,
// more GPUs per task than the node has, GPUs requested on a node without any.
std::vector<TaskPlan> plan_tasks(const NodeTopology& topo, unsigned tasks, unsigned gpus_per_task);

}  // namespace netplace::topology
