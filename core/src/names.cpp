#include "netplace/core/node.hpp"
#include "netplace/core/site.hpp"

namespace netplace {

std::string to_string(NicKind kind) {
    switch (kind) {
        case NicKind::infiniband:
            return "infiniband";
        case NicKind::slingshot:
            return "slingshot";
        case NicKind::omnipath:
            return "omnipath";
        case NicKind::ethernet:
            return "ethernet";
        case NicKind::other:
            return "other";
    }
    return "other";
}

std::string to_string(LinkHealth health) {
    switch (health) {
        case LinkHealth::unknown:
            return "unknown";
        case LinkHealth::up:
            return "up";
        case LinkHealth::degraded:
            return "degraded";
        case LinkHealth::down:
            return "down";
        case LinkHealth::stale:
            return "stale";
    }
    return "unknown";
}

}  // namespace netplace
