#pragma once
// The InfiniBand fabric as `ibnetdiscover` prints it: switches, HCAs (and routers) with their
// cabled ports and node descriptions. Parsed from the tool's standard text output, so it works on
// a dump taken on any cluster, today or years ago, without OFED or a fabric at hand.
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace netplace::fabric {

enum class NodeType { switch_node, ca, router };

struct Link {
    unsigned port = 0;         // local port number
    std::string remote;        // remote node's id as ibnetdiscover quotes it ("S-7cfe...")
    unsigned remote_port = 0;  // remote port number
    int line = 0;              // 1-based line in the input
};

struct FabricNode {
    NodeType type = NodeType::ca;
    std::string id;           // "S-<guid>" / "H-<guid>" / "R-<guid>" (ibnetdiscover's node id)
    std::string description;  // the NodeDescription ("node001 mlx5_0", "MF0;leaf01:MQM8700/U1")
    unsigned ports = 0;       // port count from the header
    int line = 0;             // line of the record's header
    std::vector<Link> links;  // cabled ports, in file order
};

struct Fabric {
    std::string source;  // file name or "stdin", for messages
    std::vector<FabricNode> nodes;
    std::map<std::string, size_t> by_id;  // id -> index in nodes

    const FabricNode* find(const std::string& id) const {
        auto it = by_id.find(id);
        return it == by_id.end() ? nullptr : &nodes[it->second];
    }
};

// Parses ibnetdiscover's text output. Throws netplace::ConfigError `source:line:col: message` for
// a line that is none of ibnetdiscover's (comment, key=value, Switch/Ca/Rt header, port line), a
// port line outside a record, a node described twice, a port cabled to the node itself, a link
// whose far end is missing (a truncated dump) or whose two ends disagree, and an empty input.
Fabric parse_ibnetdiscover(std::string_view text, const std::string& source);

std::string to_string(NodeType type);

}  // namespace netplace::fabric
