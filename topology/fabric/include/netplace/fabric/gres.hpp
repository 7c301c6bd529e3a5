#pragma once
// gres.conf for a node's GPUs and fabric NICs, from its hwloc topology (NodeTopology).
//
//   NodeName=jwb0004 Name=gpu Type=a100 File=/dev/nvidia0 Cores=18-23
//   NodeName=jwb0004 Name=nic File=/dev/infiniband/uverbs0 Cores=18-23
//
// Cores= are Slurm's core indexes, which are hwloc's logical core indexes (lstopo's "Core L#"),
// not OS CPU numbers: the cores whose PUs lie in the device's locality. Nodes whose lines are
// identical share one line with a hostlist (NodeName=node[001-016]).
#include "netplace/core/node.hpp"

#include <map>
#include <string>
#include <vector>

namespace netplace::fabric {

struct GresOptions {
    std::string type;      // Type= for every GPU ("" : from the GPU's model, when known)
    std::string dev_root;  // prefix for File= paths (tests put device nodes in their own dir)
    bool nics = true;      // Name=nic lines for fabric NICs with an RDMA device
};

struct NodeGres {
    std::string node;                       // Slurm node name
    std::vector<std::string> lines;         // gres.conf lines without NodeName=
    std::map<std::string, unsigned> count;  // "gpu:a100" -> 4, "nic" -> 4 (slurm.conf Gres=)
    std::vector<std::string> notes;
};

// One node's lines. `uverbs` maps an RDMA device name (mlx5_0) to its uverbs index when the
// caller knows it (live: /sys/class/infiniband/<dev>/device/infiniband_verbs); else the fabric
// NICs' RDMA devices are numbered in PCI order, as the kernel probes them (a note says so).
NodeGres node_gres(const std::string& node, const NodeTopology& topo, const GresOptions& options,
                   const std::map<std::string, unsigned>& uverbs = {});

// This host's RDMA device -> uverbs index, from /sys/class/infiniband/<dev>/device/
// infiniband_verbs/uverbs<N> (empty where there is no RDMA stack). `sysfs` is for tests.
std::map<std::string, unsigned> live_uverbs(const std::string& sysfs = "/sys");

// gres.conf text (identical nodes folded into hostlists) followed by the slurm.conf lines as
// comments: GresTypes= and NodeName=<nodes> Gres=<name[:type]:count,...>.
std::string gres_conf(const std::vector<NodeGres>& nodes, const std::string& header_comment);

// Slurm GRES type from a GPU model: "NVIDIA A100-SXM4-40GB" -> "a100", "Tesla V100-SXM3-32GB-H"
// -> "v100", "NVIDIA H200" -> "h200"; "" when nothing usable is left.
std::string gres_type(const std::string& model);

}  // namespace netplace::fabric
