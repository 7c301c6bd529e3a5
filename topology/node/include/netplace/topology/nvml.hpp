#pragma once
// GPU inventory beyond PCI: NVIDIA's NVML, loaded at run time (dlopen "libnvidia-ml.so.1"), so
// netplace has no build or package dependency on the driver. Debian's hwloc has no NVML plugin,
// so without this an NVIDIA GPU is a PCI device only (no model, memory, UUID or /dev/nvidiaN).
#include "netplace/core/node.hpp"

#include <string>

namespace netplace::topology {

// Adds model, memory, UUID, minor number (/dev/nvidiaN), NVLink peers and MIG instances to the
// NVIDIA GPUs of `topo`, matched by PCI bus id. `library` is the NVML to load: empty means
// $NETPLACE_NVML_LIBRARY, else "libnvidia-ml.so.1" from the loader's path. Never throws: when
// the library is missing, fails to initialise or a call fails, the GPUs keep what hwloc found
// and the returned note says why (empty when all went well or the node has no NVIDIA GPU).
std::string add_nvml_inventory(NodeTopology& topo, const std::string& library = "");

}  // namespace netplace::topology
