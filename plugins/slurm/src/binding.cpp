#include "netplace/slurm/binding.hpp"

#include "netplace/core/error.hpp"
#include "netplace/topology/plan.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <charconv>

namespace netplace::slurm {
namespace {

std::optional<unsigned> to_unsigned(const std::optional<std::string>& s) {
    if (!s || s->empty()) return std::nullopt;
    unsigned v = 0;
    // Slurm may write "2" or "gpu:2"/"a100:2" (typed requests): the count is after the last ':'.
    std::string_view t = *s;
    if (auto c = t.rfind(':'); c != std::string_view::npos) t.remove_prefix(c + 1);
    auto [p, ec] = std::from_chars(t.data(), t.data() + t.size(), v);
    if (ec != std::errc() || p != t.data() + t.size()) return std::nullopt;
    return v;
}

const Nic* find_nic(const NodeTopology& topo, const std::string& name) {
    for (const auto& n : topo.nics)
        if (std::find(n.os_devices.begin(), n.os_devices.end(), name) != n.os_devices.end())
            return &n;
    return nullptr;
}

}  // namespace

std::optional<unsigned> gpus_per_task_from_env(const GetEnv& env, unsigned local_tasks) {
    if (auto v = to_unsigned(env("SLURM_GPUS_PER_TASK")); v && *v > 0) return v;
    if (auto v = to_unsigned(env("SLURM_GPUS_ON_NODE")); v && *v > 0 && local_tasks > 0)
        return std::max(1u, *v / local_tasks);
    return std::nullopt;
}

std::optional<std::vector<unsigned>> step_gpus_from_env(const GetEnv& env) {
    for (const char* name : {"SLURM_STEP_GPUS", "SLURM_JOB_GPUS"}) {
        auto v = env(name);
        if (!v || v->empty()) continue;
        try {
            return parse_cpulist(*v);  // the same "0,2-3" list syntax
        } catch (const Error& e) {
            throw Error(fmt::format("{}={}: not a list of GPU indexes ({})", name, *v, e.what()));
        }
    }
    return std::nullopt;
}

std::vector<unsigned> planned_gpus(const TaskBinding& binding) {
    for (const auto& [k, v] : binding.env)
        if (k == "NETPLACE_GPU") return parse_cpulist(v);
    return {};
}

std::optional<TaskBinding> plan_binding(const NodeTopology& node, Bind bind, unsigned tasks,
                                        unsigned rank, std::optional<unsigned> gpus_per_task,
                                        const GetEnv& user_env,
                                        const std::optional<std::vector<unsigned>>& step_gpus,
                                        const std::optional<std::vector<unsigned>>& step_cores) {
    if (bind == Bind::none) return std::nullopt;
    if (rank >= tasks) throw Error(fmt::format("local task {} of {} does not exist", rank, tasks));
    // Plan on the step's cores and GPUs only; `gpu_index[i]` is the node index of the i-th GPU
    // planned on.
    const NodeTopology* plan_on = &node;
    NodeTopology restricted;
    std::vector<unsigned> gpu_index;
    if (step_gpus || step_cores) {
        restricted = node;
        plan_on = &restricted;
    }
    if (step_cores) {
        restricted.cores.clear();
        for (unsigned c : *step_cores) {
            if (c >= node.cores.size())
                throw Error(fmt::format(
                    "Slurm gave the step core {}, but the node topology ({}) has {} core(s): "
                    "slurm.conf must describe the node's sockets, cores and threads as they are",
                    c, node.source, node.cores.size()));
            restricted.cores.push_back(node.cores[c]);
        }
        if (tasks > restricted.cores.size()) {
            if (bind == Bind::automatic)
                return std::nullopt;  // overcommitted: as Slurm placed them
            throw Error(fmt::format(
                "{} tasks but the step has {} core(s) on this node ({}); an overcommitted "
                "step cannot be bound (--place-bind=none)",
                tasks, restricted.cores.size(), format_cpulist(*step_cores)));
        }
    }
    if (step_gpus) {
        restricted.gpus.clear();
        for (unsigned g : *step_gpus) {
            if (g >= node.gpus.size())
                throw Error(fmt::format(
                    "Slurm gave the step GPU {}, but the node topology ({}) has {} GPU(s): "
                    "gres.conf File= numbering must follow the GPUs' PCI order",
                    g, node.source, node.gpus.size()));
            restricted.gpus.push_back(node.gpus[g]);
            gpu_index.push_back(g);
        }
    } else {
        for (unsigned g = 0; g < node.gpus.size(); ++g) gpu_index.push_back(g);
    }
    const NodeTopology& topo = *plan_on;
    const auto ngpus = static_cast<unsigned>(topo.gpus.size());
    unsigned per_task = 0;
    switch (bind) {
        case Bind::numa:
            per_task = 0;
            break;
        case Bind::automatic:
            per_task = ngpus > 0 ? gpus_per_task.value_or(0) : 0;
            break;
        case Bind::gpu_nic:
            if (ngpus == 0)
                throw Error(fmt::format("--place-bind=gpu-nic: node topology ({}) has no GPU",
                                        topo.source));
            // Without a GPU request (GPUs Slurm does not manage), share the node's GPUs out.
            per_task = gpus_per_task.value_or(std::max(1u, ngpus / std::max(1u, tasks)));
            break;
        case Bind::none:
            break;
    }
    auto plans = topology::plan_tasks(topo, tasks, per_task);
    const auto& p = plans.at(rank);

    TaskBinding b;
    b.cpus = p.cpus;
    b.env.emplace_back("NETPLACE_CPUS", format_cpulist(p.cpus));
    if (p.numa) b.env.emplace_back("NETPLACE_NUMA", std::to_string(*p.numa));
    if (!p.gpu_indices.empty()) {
        std::vector<unsigned> idx;
        for (unsigned i : p.gpu_indices) idx.push_back(gpu_index.at(i));
        b.env.emplace_back("NETPLACE_GPU", fmt::format("{}", fmt::join(idx, ",")));
        b.env.emplace_back("NETPLACE_GPU_PCI", fmt::format("{}", fmt::join(p.gpus, ",")));
    }
    if (!p.nics.empty()) {
        b.env.emplace_back("NETPLACE_NIC", fmt::format("{}", fmt::join(p.nics, ",")));
        // NCCL and UCX only understand fabric HCAs (mlx5_0); an Ethernet netdev would break them.
        std::vector<std::string> hcas, ucx;
        for (const auto& n : p.nics) {
            const Nic* nic = find_nic(topo, n);
            if (nic && nic->fabric) {
                hcas.push_back(n);
                ucx.push_back(n + ":1");
            }
        }
        if (!hcas.empty()) {
            if (!user_env("NCCL_IB_HCA"))
                b.env.emplace_back("NCCL_IB_HCA", fmt::format("{}", fmt::join(hcas, ",")));
            if (!user_env("UCX_NET_DEVICES"))
                b.env.emplace_back("UCX_NET_DEVICES", fmt::format("{}", fmt::join(ucx, ",")));
        }
    }
    return b;
}

}  // namespace netplace::slurm
