#pragma once
// From a parsed fabric to Slurm's topology.conf, for topology/tree and topology/block.
//
// HCAs become Slurm nodes through the admin's pattern over their node descriptions (a PCRE2
// regular expression with a named group `node`, optional `hca`). Leaf switches are the switches
// cabled to a mapped HCA; every other switch gets its level from its distance to the leaves and
// lists the switches one level below as its children. A node with several HCAs (rails) is placed
// by one of them: HCAs of a node are ordered by their `hca` name (mlx5_0 < mlx5_1), `rail` picks
// the position (a node without that many HCAs uses its last).
#include "netplace/fabric/ibnetdiscover.hpp"

#include <nlohmann/json.hpp>

#include <string>
#include <vector>

namespace netplace::fabric {

inline constexpr const char* default_node_pattern = R"(^(?<node>[^\s]+)(\s+(?<hca>\S+))?)";

enum class SwitchNaming {
    description,  // from the node description: "MF0;leaf01:MQM8700/U1" -> "leaf01"
    guid,         // "S-7cfe900300a5a2c0" -> "ib-7cfe900300a5a2c0"
};

struct TreeOptions {
    std::string node_pattern = default_node_pattern;
    unsigned rail = 0;
    SwitchNaming switch_naming = SwitchNaming::description;
};

struct Hca {
    std::string id;           // "H-<guid>"
    std::string description;  // node description
    std::string node;         // Slurm node name ("" when the pattern does not match)
    std::string hca;          // the pattern's hca group ("mlx5_0"), may be empty
    std::string leaf;         // name of the switch it is cabled to ("" if none)
    unsigned leaf_port = 0;
    int line = 0;
};

struct Switch {
    std::string id;  // "S-<guid>"
    std::string description;
    std::string name;  // Slurm SwitchName
    unsigned level = 0;
    std::vector<std::string> nodes;     // leaves: Slurm node names (sorted, unique)
    std::vector<std::string> children;  // upper levels: switch names one level below (sorted)
    int line = 0;
};

struct Tree {
    std::vector<Switch> switches;    // leaves first, then by level, then by name
    std::vector<Hca> hcas;           // every HCA (mapped or not), in file order
    std::vector<std::string> notes;  // what was left out and why (HCAs, storage leaves, ...)
    unsigned node_count = 0;
};

// Throws netplace::ConfigError with the line of the record at fault: an invalid pattern, a node
// name Slurm cannot take, a switch without a usable name, two switches with the same name, a
// link between two switches of the same level or a switch cabled to itself (a loop: not a tree),
// and a fabric where no HCA maps to a node.
Tree build_tree(const Fabric& fabric, const TreeOptions& options);

// topology.conf for topology/tree: SwitchName=... Nodes=... (leaves), then SwitchName=...
// Switches=... level by level; node and switch lists hostlist-compressed.
std::string topology_conf_tree(const Tree& tree, const std::string& header_comment);

// topology.conf for topology/block (Slurm >= 23.11): one BlockName=... Nodes=... per leaf switch
// (the nodes one switch hop apart), in leaf order; BlockSizes left to Slurm's default.
std::string topology_conf_block(const Tree& tree, const std::string& header_comment);

// {"source","switches":[{"name","id","description","level","nodes","switches","line"}],
//  "hcas":[{"id","description","node","hca","switch","port","line"}],"nodes":N,"notes":[...]}
nlohmann::json to_json(const Tree& tree, const Fabric& fabric);

}  // namespace netplace::fabric
