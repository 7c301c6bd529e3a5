#pragma once
// Node topology discovery through hwloc: the live host, an hwloc XML export, or an hwloc
// synthetic description. The result is a plain netplace::NodeTopology (no hwloc types), so
// callers and the planner never see hwloc.
#include "netplace/core/node.hpp"

#include <string>

namespace netplace::topology {

// Each throws netplace::Error with one line naming the input and what is wrong.
NodeTopology load_host();
NodeTopology load_xml(const std::string& path);
NodeTopology load_synthetic(const std::string& description);

// The live host as hwloc XML (I/O devices kept), for callers that cache the discovery in a file
// and reload it with load_xml (e.g. the SPANK plugin's topology cache).
std::string host_xml();

}  // namespace netplace::topology
