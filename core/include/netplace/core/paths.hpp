#pragma once
// Installed locations netplace reads when nothing else is given: spelled once here, read by the
// tools' defaults, the daemon and the Slurm plugins' plugstack defaults.
#include <string_view>

namespace netplace::paths {

// The federation file (sites, links, probing, exchange). Tools also honour $NETPLACE_FEDERATION
// (network::default_federation_path()); the Slurm plugins take only their plugstack argument, so
// nothing a user sets in the environment moves them to another file.
inline constexpr std::string_view federation_file = "/etc/netplace/federation.yaml";

}  // namespace netplace::paths
