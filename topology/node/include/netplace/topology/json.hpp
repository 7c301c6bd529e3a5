#pragma once
// JSON views of a node topology and of a task plan. The keys named in issue 2 are a contract
// other tools rely on; extra keys may be added, never renamed or removed.
#include "netplace/core/node.hpp"
#include "netplace/topology/plan.hpp"

#include <nlohmann/json.hpp>

#include <vector>

namespace netplace::topology {

// {"packages","numa_nodes" (CPU-attached only),"cores","pus",
//  "gpus":[{"pci","vendor","os_devices","numa","cpuset", +"model","package"}],
//  "nics":[{"pci","kind","fabric","os_devices","numa", +"cpuset","package"}],
//  +"numa":[{"os_index","memory_bytes","cpus","cpu_attached","subtype",...}],
//  +"memory_numa_nodes" (count), +"numa_distances" (matrix in "numa" order, or null)}
// An unknown NUMA node is null.
nlohmann::json to_json(const NodeTopology& topo);

// {"tasks":[{"rank","cpus","gpus","nics","numa", +"gpu_indices"}]}
nlohmann::json to_json(const std::vector<TaskPlan>& plan);

}  // namespace netplace::topology
