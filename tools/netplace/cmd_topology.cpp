// `netplace topology show|plan`: the node's topology as hwloc sees it, and the per-task binding
// plan the SPANK plugin would apply.
#include "command.hpp"

#include "netplace/core/error.hpp"
#include "netplace/topology/json.hpp"
#include "netplace/topology/node.hpp"
#include "netplace/topology/plan.hpp"

#include <fmt/format.h>

#include <iostream>
#include <memory>

namespace netplace::cli {
namespace {

struct Source {
    std::string xml;
    std::string synthetic;
};

void add_source(CLI::App& cmd, Source& src) {
    auto* in =
        cmd.add_option("--input", src.xml, "hwloc XML file (lstopo --of xml) instead of this host");
    auto* syn = cmd.add_option("--synthetic", src.synthetic,
                               "hwloc synthetic description, e.g. \"pack:2 numa:2 core:4 pu:2\"");
    in->excludes(syn);
}

NodeTopology load(const Source& src) {
    if (!src.xml.empty()) return topology::load_xml(src.xml);
    if (!src.synthetic.empty()) return topology::load_synthetic(src.synthetic);
    NodeTopology t = topology::load_host();
    for (const auto& n : t.notes) std::cerr << "netplace: note: " << n << '\n';
    return t;
}

std::string opt(const std::optional<unsigned>& v) { return v ? std::to_string(*v) : "-"; }

std::string join(const std::vector<std::string>& v) {
    std::string out;
    for (const auto& s : v) out += (out.empty() ? "" : ",") + s;
    return out.empty() ? "-" : out;
}

std::string gib(std::uint64_t bytes) {
    return fmt::format("{:.1f} GiB", static_cast<double>(bytes) / (1ULL << 30));
}

void print_topology(const NodeTopology& t) {
    std::cout << fmt::format("{}: {} packages, {} NUMA nodes with CPUs, {} cores, {} PUs\n",
                             t.source, t.packages, t.cpu_numa_count(), t.cores.size(), t.pus);
    for (const auto& n : t.numa_nodes) {
        if (n.cpu_attached) {
            std::cout << fmt::format("  NUMA {:<3} {:>10}  package {}  cpus {}\n", n.os_index,
                                     gib(n.memory_bytes), opt(n.package), format_cpulist(n.cpus));
        } else {
            std::cout << fmt::format(
                "  NUMA {:<3} {:>10}  memory only{}{}, near cpus {}\n", n.os_index,
                gib(n.memory_bytes), n.subtype.empty() ? "" : " (" + n.subtype + ")",
                n.pci_bus_id.empty() ? "" : " of " + n.pci_bus_id, format_cpulist(n.locality));
        }
    }
    for (size_t i = 0; i < t.gpus.size(); ++i) {
        const auto& g = t.gpus[i];
        std::cout << fmt::format("  GPU {:<2} {}  {} {}  numa {}  cpus {}  [{}]\n", i, g.pci.bus_id,
                                 g.vendor, g.model.empty() ? "" : "\"" + g.model + "\"",
                                 opt(g.numa), format_cpulist(g.cpus), join(g.os_devices));
        if (!g.uuid.empty()) {
            std::string links;
            for (const auto& l : g.nvlink)
                links += fmt::format("{}{} x{}", links.empty() ? "" : ", ", l.pci, l.links);
            std::cout << fmt::format(
                "         {}  {}  NVLink: {}{}\n", gib(g.memory_bytes), g.uuid,
                links.empty() ? "none" : links,
                g.mig.empty() ? "" : fmt::format("  MIG: {} instances", g.mig.size()));
        }
    }
    for (const auto& n : t.nics) {
        std::cout << fmt::format("  NIC    {}  {}{}  numa {}  cpus {}  [{}]\n", n.pci.bus_id,
                                 to_string(n.kind), n.fabric ? " (fabric)" : "", opt(n.numa),
                                 format_cpulist(n.cpus), join(n.os_devices));
    }
    if (t.gpus.empty()) std::cout << "  no compute GPUs\n";
    if (t.nics.empty()) std::cout << "  no NICs\n";
}

void print_plan(const NodeTopology& t, const std::vector<topology::TaskPlan>& plan) {
    std::cout << fmt::format("{}: {} tasks\n", t.source, plan.size());
    for (const auto& p : plan) {
        std::cout << fmt::format("  rank {:<3} cpus {:<20} numa {:<3} gpus {:<28} nics {}\n",
                                 p.rank, format_cpulist(p.cpus), opt(p.numa), join(p.gpus),
                                 join(p.nics));
    }
}

Registration reg(10, [](CLI::App& app) -> std::function<int()> {
    auto* topo = app.add_subcommand("topology", "Node topology (hwloc) and per-task binding plans");
    topo->require_subcommand(1);

    struct Options {
        Source src;
        bool json = false;
        unsigned tasks = 0;
        unsigned gpus_per_task = 0;
    };
    auto show_opts = std::make_shared<Options>();
    auto plan_opts = std::make_shared<Options>();

    auto* show =
        topo->add_subcommand("show", "Packages, NUMA nodes, cores, GPUs and NICs of a node");
    add_source(*show, show_opts->src);
    show->add_flag("--json", show_opts->json, "JSON output");

    auto* plan =
        topo->add_subcommand("plan", "Cores, GPU(s), NIC(s) and NUMA node for each local task");
    add_source(*plan, plan_opts->src);
    plan->add_option("--tasks", plan_opts->tasks, "number of tasks on the node")->required();
    plan->add_option("--gpus-per-task", plan_opts->gpus_per_task, "GPUs per task (default 0)");
    plan->add_flag("--json", plan_opts->json, "JSON output");

    return [=]() -> int {
        if (show->parsed()) {
            const NodeTopology t = load(show_opts->src);
            if (show_opts->json)
                std::cout << topology::to_json(t).dump(2) << '\n';
            else
                print_topology(t);
            return ok;
        }
        if (plan->parsed()) {
            const NodeTopology t = load(plan_opts->src);
            const auto p = topology::plan_tasks(t, plan_opts->tasks, plan_opts->gpus_per_task);
            if (plan_opts->json)
                std::cout << topology::to_json(p).dump(2) << '\n';
            else
                print_plan(t, p);
            return ok;
        }
        std::cerr << "netplace topology: give a subcommand: show or plan\n";
        return bad_input;
    };
});

}  // namespace
}  // namespace netplace::cli
