// `netplace fabric topology|gres`: the site's inside for Slurm, generated instead of hand-written.
// topology: ibnetdiscover's text -> topology.conf (topology/tree or topology/block) or JSON.
#include "command.hpp"

#include "netplace/core/error.hpp"
#include "netplace/core/file.hpp"
#include "netplace/fabric/gres.hpp"
#include "netplace/fabric/ibnetdiscover.hpp"
#include "netplace/fabric/tree.hpp"
#include "netplace/topology/node.hpp"

#include <unistd.h>

#include <fmt/format.h>

#include <algorithm>
#include <filesystem>
#include <iostream>
#include <memory>

namespace netplace::cli {
namespace {

std::string read_input(const std::string& path) {
    if (path.empty() || path == "-")
        return file::read_stream(0, "<stdin>", limits::Cap::import_file);
    return file::read_all(path, limits::Cap::import_file);
}

void emit(const std::string& text, const std::string& output) {
    if (output.empty() || output == "-")
        std::cout << text;
    else
        file::write_atomic(output, text);
}

void print_notes(const std::vector<std::string>& notes) {
    constexpr size_t shown = 10;
    for (size_t i = 0; i < notes.size() && i < shown; ++i)
        std::cerr << "netplace: note: " << notes[i] << '\n';
    if (notes.size() > shown)
        std::cerr << "netplace: note: ... and " << notes.size() - shown
                  << " more (all of them in --json's \"notes\")\n";
}

Registration reg(15, [](CLI::App& app) -> std::function<int()> {
    auto* fab = app.add_subcommand(
        "fabric", "Slurm's view of the site's inside: topology.conf from the fabric, gres.conf");
    fab->require_subcommand(1);

    struct TopoOptions {
        std::string input;
        std::string output;
        std::string format = "tree";
        std::string switch_names = "description";
        fabric::TreeOptions tree;
        bool json = false;
    };
    auto t = std::make_shared<TopoOptions>();
    auto* topo = fab->add_subcommand(
        "topology", "topology.conf (topology/tree or topology/block) from ibnetdiscover's output");
    topo->add_option("input", t->input, "ibnetdiscover output file ('-' or none: stdin)");
    topo->add_option("-o,--output", t->output, "write here (atomically) instead of stdout");
    topo->add_option("--format", t->format,
                     "tree (topology/tree, default) or block (topology/block)")
        ->check(CLI::IsMember({"tree", "block"}));
    topo->add_option("--node-pattern", t->tree.node_pattern,
                     std::string("PCRE2 over HCA node descriptions with groups (?<node>) and "
                                 "optional (?<hca>); default ") +
                         fabric::default_node_pattern);
    topo->add_option("--rail", t->tree.rail,
                     "nodes with several HCAs are placed by the HCA at this position in hca-name "
                     "order (default 0: mlx5_0)");
    topo->add_option("--switch-names", t->switch_names,
                     "description (switch hostname from its node description, default) or guid")
        ->check(CLI::IsMember({"description", "guid"}));
    topo->add_flag("--json", t->json, "the parsed fabric and the tree as JSON");

    struct GresCli {
        std::string input, dir, node, output;
        fabric::GresOptions gres;
        bool no_nics = false;
    };
    auto g = std::make_shared<GresCli>();
    auto* gres = fab->add_subcommand(
        "gres", "gres.conf lines for GPUs and fabric NICs (and slurm.conf Gres=) from hwloc");
    auto* in = gres->add_option("--input", g->input, "hwloc XML of one node instead of this host");
    auto* dir = gres->add_option("--dir", g->dir, "directory of per-node hwloc XMLs (<node>.xml)");
    in->excludes(dir);
    gres->add_option("--node", g->node,
                     "Slurm node name (default: this host's short name, or the XML file's stem)")
        ->excludes(dir);
    gres->add_option("--type", g->gres.type,
                     "GPU Type= for every GPU (default: from the GPU model when known)");
    gres->add_option("--dev-root", g->gres.dev_root,
                     "prefix for the File= device paths (default: none, i.e. /dev/...)");
    gres->add_flag("--no-nics", g->no_nics, "GPUs only");
    gres->add_option("-o,--output", g->output, "write here (atomically) instead of stdout");

    return [=]() -> int {
        if (topo->parsed()) {
            const std::string source = t->input.empty() || t->input == "-" ? "stdin" : t->input;
            const std::string text = read_input(t->input);
            const auto fabric = fabric::parse_ibnetdiscover(text, source);
            auto opts = t->tree;
            opts.switch_naming = t->switch_names == "guid" ? fabric::SwitchNaming::guid
                                                           : fabric::SwitchNaming::description;
            const auto tree = fabric::build_tree(fabric, opts);
            print_notes(tree.notes);
            if (t->json) {
                emit(fabric::to_json(tree, fabric).dump(2) + "\n", t->output);
                return ok;
            }
            unsigned leaves = 0;
            for (const auto& s : tree.switches) leaves += s.level == 0 ? 1 : 0;
            const std::string header = fmt::format(
                "# topology.conf for {} written by `netplace fabric topology` from {}\n"
                "# {} leaf switches, {} upper switches, {} nodes; nodes with several HCAs placed "
                "by rail {}\n",
                t->format == "block" ? "topology/block (Slurm >= 23.11)" : "topology/tree", source,
                leaves, tree.switches.size() - leaves, tree.node_count, opts.rail);
            emit(t->format == "block" ? fabric::topology_conf_block(tree, header)
                                      : fabric::topology_conf_tree(tree, header),
                 t->output);
            return ok;
        }
        if (gres->parsed()) {
            namespace fs = std::filesystem;
            g->gres.nics = !g->no_nics;
            std::vector<fabric::NodeGres> nodes;
            std::string from;
            auto stem = [](const std::string& path) {
                return fs::path(path).filename().string().substr(
                    0, fs::path(path).filename().string().rfind(".xml"));
            };
            if (!g->dir.empty()) {
                std::vector<std::string> files;
                std::error_code ec;
                for (const auto& e : fs::directory_iterator(g->dir, ec))
                    if (e.path().extension() == ".xml") files.push_back(e.path().string());
                if (ec) throw Error("--dir " + g->dir + ": " + ec.message());
                if (files.empty()) throw Error("--dir " + g->dir + ": no *.xml files in it");
                std::sort(files.begin(), files.end());
                for (const auto& f : files)
                    nodes.push_back(fabric::node_gres(stem(f), topology::load_xml(f), g->gres));
                from = g->dir;
            } else if (!g->input.empty()) {
                nodes.push_back(fabric::node_gres(g->node.empty() ? stem(g->input) : g->node,
                                                  topology::load_xml(g->input), g->gres));
                from = g->input;
            } else {
                std::string name = g->node;
                if (name.empty()) {
                    char host[256] = {};
                    ::gethostname(host, sizeof host - 1);
                    name = host;
                    name = name.substr(0, name.find('.'));
                }
                const NodeTopology host = topology::load_host();
                nodes.push_back(fabric::node_gres(name, host, g->gres, fabric::live_uverbs()));
                nodes.back().notes.insert(nodes.back().notes.begin(), host.notes.begin(),
                                          host.notes.end());
                from = "this host";
            }
            std::vector<std::string> notes;
            for (const auto& n : nodes) notes.insert(notes.end(), n.notes.begin(), n.notes.end());
            print_notes(notes);
            emit(fabric::gres_conf(
                     nodes, "# gres.conf written by `netplace fabric gres` from " + from + "\n"),
                 g->output);
            return ok;
        }
        std::cerr << "netplace fabric: give a subcommand: topology or gres\n";
        return bad_input;
    };
});

}  // namespace
}  // namespace netplace::cli
