// Fabric graph -> Slurm switch tree. See tree.hpp for the rules; the why of each is here.
#include "netplace/fabric/tree.hpp"

#include "netplace/core/error.hpp"
#include "netplace/fabric/hostlist.hpp"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include <algorithm>
#include <cctype>
#include <deque>
#include <map>
#include <memory>
#include <set>

namespace netplace::fabric {
namespace {

// RAII over a compiled pattern and its match data.
class Pattern {
  public:
    explicit Pattern(const std::string& text) {
        int code = 0;
        PCRE2_SIZE offset = 0;
        re_ = pcre2_compile(reinterpret_cast<PCRE2_SPTR>(text.c_str()), text.size(), PCRE2_UTF,
                            &code, &offset, nullptr);
        if (!re_) {
            PCRE2_UCHAR buf[256];
            pcre2_get_error_message(code, buf, sizeof buf);
            throw ConfigError("node pattern '" + text + "': " + reinterpret_cast<char*>(buf) +
                              " at offset " + std::to_string(offset));
        }
        node_group_ = pcre2_substring_number_from_name(re_, reinterpret_cast<PCRE2_SPTR>("node"));
        hca_group_ = pcre2_substring_number_from_name(re_, reinterpret_cast<PCRE2_SPTR>("hca"));
        if (node_group_ <= 0) {
            pcre2_code_free(re_);
            throw ConfigError("node pattern '" + text +
                              "': needs a named group (?<node>...) for the Slurm node name");
        }
        md_ = pcre2_match_data_create_from_pattern(re_, nullptr);
    }
    ~Pattern() {
        pcre2_match_data_free(md_);
        pcre2_code_free(re_);
    }
    Pattern(const Pattern&) = delete;
    Pattern& operator=(const Pattern&) = delete;

    // Node and HCA names from a description; false when it does not match.
    bool match(const std::string& s, std::string& node, std::string& hca) const {
        const int rc =
            pcre2_match(re_, reinterpret_cast<PCRE2_SPTR>(s.data()), s.size(), 0, 0, md_, nullptr);
        if (rc <= 0) return false;
        node = group(s, node_group_, rc);
        hca = hca_group_ > 0 ? group(s, hca_group_, rc) : "";
        return !node.empty();
    }

  private:
    std::string group(const std::string& s, int n, int rc) const {
        if (n >= rc) return {};
        const PCRE2_SIZE* ov = pcre2_get_ovector_pointer(md_);
        if (ov[2 * n] == PCRE2_UNSET) return {};
        return s.substr(ov[2 * n], ov[2 * n + 1] - ov[2 * n]);
    }
    pcre2_code* re_ = nullptr;
    pcre2_match_data* md_ = nullptr;
    int node_group_ = -1, hca_group_ = -1;
};

// Natural order: "leaf2" before "leaf10", so output reads like the machine room.
bool natural_less(const std::string& a, const std::string& b) {
    size_t i = 0, j = 0;
    while (i < a.size() && j < b.size()) {
        const bool da = std::isdigit(static_cast<unsigned char>(a[i])),
                   db = std::isdigit(static_cast<unsigned char>(b[j]));
        if (da && db) {
            size_t ie = i, je = j;
            while (ie < a.size() && std::isdigit(static_cast<unsigned char>(a[ie]))) ++ie;
            while (je < b.size() && std::isdigit(static_cast<unsigned char>(b[je]))) ++je;
            std::string_view na(a.data() + i, ie - i), nb(b.data() + j, je - j);
            while (na.size() > 1 && na.front() == '0') na.remove_prefix(1);
            while (nb.size() > 1 && nb.front() == '0') nb.remove_prefix(1);
            if (na.size() != nb.size()) return na.size() < nb.size();
            if (na != nb) return na < nb;
            i = ie;
            j = je;
        } else {
            if (a[i] != b[j]) return a[i] < b[j];
            ++i;
            ++j;
        }
    }
    return a.size() - i < b.size() - j;
}

std::string switch_name(const FabricNode& s, SwitchNaming naming, const std::string& source) {
    if (naming == SwitchNaming::guid) {
        std::string g = s.id;
        if (g.size() > 2 && g[1] == '-') g = g.substr(2);
        return "ib-" + g;
    }
    std::string name = s.description;
    // Mellanox/NVIDIA switch firmware: "MF0;<hostname>:<model>/<unit>"; the hostname is the
    // name the admin gave the switch.
    if (name.rfind("MF0;", 0) == 0) {
        name = name.substr(4);
        name = name.substr(0, name.find(':'));
    }
    const SourceLocation at{source, s.line, 1};
    if (name.empty())
        throw ConfigError(at, "switch '" + s.id +
                                  "' has no name (empty node description): name it on the switch "
                                  "(its hostname) or pass --switch-names guid");
    if (const auto why = slurm_name_problem(name); !why.empty())
        throw ConfigError(at, "switch '" + s.id + "' named '" + s.description +
                                  "' cannot be a Slurm SwitchName: " + why +
                                  " (rename the switch or pass --switch-names guid)");
    return name;
}

}  // namespace

Tree build_tree(const Fabric& fabric, const TreeOptions& options) {
    const Pattern pattern(options.node_pattern);
    Tree out;
    const auto& nodes = fabric.nodes;

    // 1. HCAs -> Slurm nodes, each with the switch it is cabled to.
    std::map<std::string, std::vector<size_t>> by_node;  // node -> indexes into out.hcas
    for (const auto& n : nodes) {
        if (n.type != NodeType::ca) continue;
        Hca h;
        h.id = n.id;
        h.description = n.description;
        h.line = n.line;
        for (const auto& l : n.links) {
            const FabricNode* far = fabric.find(l.remote);
            if (far && far->type == NodeType::switch_node) {
                h.leaf = far->id;  // switch id for now; replaced by its name below
                h.leaf_port = l.remote_port;
                break;
            }
        }
        if (!pattern.match(n.description, h.node, h.hca)) {
            out.notes.push_back("HCA '" + n.description + "' (line " + std::to_string(n.line) +
                                ") matches no node name in the pattern: left out");
            h.node.clear();
        } else if (const auto why = slurm_name_problem(h.node); !why.empty()) {
            throw ConfigError(SourceLocation{fabric.source, n.line, 1},
                              "HCA '" + n.description + "' gives node name '" + h.node +
                                  "': " + why + " (adjust --node-pattern)");
        } else if (h.leaf.empty()) {
            out.notes.push_back("HCA '" + n.description + "' (line " + std::to_string(n.line) +
                                ") is cabled to no switch: left out");
        } else {
            by_node[h.node].push_back(out.hcas.size());
        }
        out.hcas.push_back(std::move(h));
    }
    if (by_node.empty())
        throw ConfigError(SourceLocation{fabric.source, 1, 1},
                          "no HCA's node description matches the node pattern '" +
                              options.node_pattern +
                              "' (see the descriptions with --json; set --node-pattern)");

    // 2. Rails: a node is placed by one of its HCAs.
    std::map<std::string, std::set<std::string>> leaf_nodes;  // switch id -> node names
    for (auto& [node, idx] : by_node) {
        std::sort(idx.begin(), idx.end(), [&](size_t a, size_t b) {
            const auto& x = out.hcas[a];
            const auto& y = out.hcas[b];
            if (x.hca != y.hca) return natural_less(x.hca, y.hca);
            return x.id < y.id;
        });
        const size_t pick = std::min<size_t>(options.rail, idx.size() - 1);
        leaf_nodes[out.hcas[idx[pick]].leaf].insert(node);
    }
    out.node_count = static_cast<unsigned>(by_node.size());

    // 3. Switch graph and levels: breadth-first from the leaves.
    std::map<std::string, std::map<std::string, int>> adj;  // switch -> neighbour -> first line
    std::set<std::string> has_ca;
    for (const auto& n : nodes) {
        if (n.type != NodeType::switch_node) continue;
        adj[n.id];
        for (const auto& l : n.links) {
            const FabricNode* far = fabric.find(l.remote);
            if (!far) continue;
            if (far->type == NodeType::switch_node)
                adj[n.id].emplace(far->id, l.line);
            else
                has_ca.insert(n.id);
        }
    }
    std::map<std::string, unsigned> level;
    std::set<std::string> outside;  // edge switches of HCAs that are no nodes (storage, other rail)
    std::deque<std::string> queue;
    for (const auto& [id, names] : leaf_nodes) {
        level[id] = 0;
        queue.push_back(id);
    }
    while (!queue.empty()) {
        const std::string s = queue.front();
        queue.pop_front();
        const unsigned lv = level[s];
        // A switch two or more hops above the compute leaves that has HCAs of its own is the edge
        // of another part of the fabric (storage, another rail): it must not become a parent of
        // the spines, so the walk stops there. A spine with a management HCA (level 1) stays.
        if (lv >= 2 && has_ca.count(s)) {
            outside.insert(s);
            continue;
        }
        for (const auto& [nb, line] : adj[s]) {
            if (!level.count(nb)) {
                level[nb] = lv + 1;
                queue.push_back(nb);
            }
        }
    }

    // 4. Names, loops and children.
    std::map<std::string, std::string> name_of;  // id -> SwitchName
    std::map<std::string, const FabricNode*> by_name;
    std::vector<Switch> kept;
    for (const auto& n : nodes) {
        if (n.type != NodeType::switch_node) continue;
        const auto lv = level.find(n.id);
        if (lv == level.end() || outside.count(n.id)) {
            out.notes.push_back("switch '" + (n.description.empty() ? n.id : n.description) +
                                "' (line " + std::to_string(n.line) + ") " +
                                (lv == level.end() ? "leads to no node"
                                                   : "serves only HCAs that are no nodes here") +
                                ": left out");
            continue;
        }
        const std::string name = switch_name(n, options.switch_naming, fabric.source);
        if (auto [it, fresh] = by_name.emplace(name, &n); !fresh)
            throw ConfigError(
                SourceLocation{fabric.source, n.line, 1},
                "switch name '" + name + "' is already used by the switch at line " +
                    std::to_string(it->second->line) +
                    " (give the switches distinct names or pass --switch-names guid)");
        name_of[n.id] = name;
    }
    for (const auto& n : nodes) {
        if (!name_of.count(n.id)) continue;
        Switch sw;
        sw.id = n.id;
        sw.description = n.description;
        sw.name = name_of[n.id];
        sw.level = level[n.id];
        sw.line = n.line;
        for (const auto& [nb, line] : adj[n.id]) {
            if (!name_of.count(nb)) continue;
            if (level[nb] == sw.level)
                throw ConfigError(
                    SourceLocation{fabric.source, line, 1},
                    "switches '" + sw.name + "' and '" + name_of[nb] +
                        "' are cabled to each other and both sit " + std::to_string(sw.level) +
                        " hop(s) above the nodes: a loop, which topology.conf (a tree) cannot "
                        "express (check the cabling, or the node pattern if leaves are missing)");
            if (level[nb] + 1 == sw.level) sw.children.push_back(name_of[nb]);
        }
        if (auto it = leaf_nodes.find(n.id); it != leaf_nodes.end())
            sw.nodes.assign(it->second.begin(), it->second.end());
        std::sort(sw.children.begin(), sw.children.end(), natural_less);
        std::sort(sw.nodes.begin(), sw.nodes.end(), natural_less);
        kept.push_back(std::move(sw));
    }
    for (auto& h : out.hcas)
        if (!h.leaf.empty()) h.leaf = name_of.count(h.leaf) ? name_of[h.leaf] : "";
    std::sort(kept.begin(), kept.end(), [](const Switch& a, const Switch& b) {
        if (a.level != b.level) return a.level < b.level;
        return natural_less(a.name, b.name);
    });
    out.switches = std::move(kept);
    return out;
}

std::string topology_conf_tree(const Tree& tree, const std::string& header_comment) {
    std::string out = header_comment;
    for (const auto& s : tree.switches) {
        if (s.level == 0)
            out += "SwitchName=" + s.name + " Nodes=" + compress_hostlist(s.nodes) + "\n";
        else
            out += "SwitchName=" + s.name + " Switches=" + compress_hostlist(s.children) + "\n";
    }
    return out;
}

std::string topology_conf_block(const Tree& tree, const std::string& header_comment) {
    std::string out = header_comment;
    for (const auto& s : tree.switches)
        if (s.level == 0)
            out += "BlockName=" + s.name + " Nodes=" + compress_hostlist(s.nodes) + "\n";
    return out;
}

nlohmann::json to_json(const Tree& tree, const Fabric& fabric) {
    nlohmann::json sw = nlohmann::json::array();
    for (const auto& s : tree.switches) {
        sw.push_back({{"name", s.name},
                      {"id", s.id},
                      {"description", s.description},
                      {"level", s.level},
                      {"nodes", s.nodes},
                      {"switches", s.children},
                      {"line", s.line}});
    }
    nlohmann::json hcas = nlohmann::json::array();
    for (const auto& h : tree.hcas) {
        hcas.push_back(
            {{"id", h.id},
             {"description", h.description},
             {"node", h.node.empty() ? nlohmann::json(nullptr) : nlohmann::json(h.node)},
             {"hca", h.hca},
             {"switch", h.leaf.empty() ? nlohmann::json(nullptr) : nlohmann::json(h.leaf)},
             {"port", h.leaf_port},
             {"line", h.line}});
    }
    return {{"source", fabric.source},
            {"switches", std::move(sw)},
            {"hcas", std::move(hcas)},
            {"nodes", tree.node_count},
            {"notes", tree.notes}};
}

}  // namespace netplace::fabric
