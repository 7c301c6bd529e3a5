// slurmstepd (remote context): load the node topology once per step, bind each task.
#include "plugin.hpp"

#include "netplace/core/error.hpp"
#include "netplace/core/log.hpp"
#include "netplace/slurm/binding.hpp"
#include "netplace/slurm/node_cache.hpp"
#include "netplace/topology/node.hpp"

#include "netplace/core/file.hpp"

#include <sched.h>
#include <sys/stat.h>

#include <cerrno>
#include <cstring>
#include <string>
#include <vector>

namespace netplace::slurm::plugin {
namespace {

Bind effective_bind(spank_t sp) {
    auto& st = state();
    if (st.opts.bind) return *st.opts.bind;
    if (auto v = job_getenv(sp, "NETPLACE_BIND"); v && !v->empty()) {
        try {
            return parse_bind(*v);
        } catch (const Error& e) {
            throw Error("NETPLACE_BIND=" + *v + ": " + e.what());
        }
    }
    return st.config.bind;
}

// Applies the plan's CPUs within what the task may use now (cgroup/cpuset or an outer binding):
// the plan never widens an allocation.
void apply_affinity(const CpuList& planned, unsigned rank) {
    cpu_set_t cur;
    CPU_ZERO(&cur);
    if (sched_getaffinity(0, sizeof cur, &cur) != 0)
        throw Error(std::string("sched_getaffinity: ") + std::strerror(errno));
    cpu_set_t want;
    CPU_ZERO(&want);
    unsigned n = 0;
    for (unsigned c : planned)
        if (c < CPU_SETSIZE && CPU_ISSET(c, &cur)) {
            CPU_SET(c, &want);
            ++n;
        }
    if (n == 0) {
        log::warn("task {}: planned CPUs {} are outside the allocation; affinity left as is", rank,
                  format_cpulist(planned));
        return;
    }
    if (sched_setaffinity(0, sizeof want, &want) != 0)
        throw Error("sched_setaffinity(" + format_cpulist(planned) + "): " + std::strerror(errno));
}

// Discovers this host (through the topology library, the one place that speaks hwloc) and
// writes it as hwloc XML, atomically so concurrent steps never read half a file.
void write_host_xml(const std::string& path) {
    const std::string xml = topology::host_xml();
    auto slash = path.rfind('/');
    if (slash != std::string::npos && slash > 0) ::mkdir(path.substr(0, slash).c_str(), 0755);
    file::write_atomic(path, xml);
}

NodeTopology load_node(const PluginConfig& cfg) {
    if (cfg.topology) return topology::load_xml(*cfg.topology);
    if (!cfg.topology_cache) return topology::load_host();
    const std::string& cache = *cfg.topology_cache;
    if (topology_cache_valid(file_mtime(cache), boot_time())) {
        try {
            return topology::load_xml(cache);
        } catch (const std::exception& e) {
            log::warn("topology cache {} unreadable ({}); rediscovering", cache, e.what());
        }
    }
    try {
        write_host_xml(cache);
        return topology::load_xml(cache);
    } catch (const std::exception& e) {
        log::warn("topology cache {} not written ({}); discovering the host each step", cache,
                  e.what());
    }
    return topology::load_host();
}

}  // namespace

std::optional<std::string> job_getenv(spank_t sp, const char* name) {
    std::vector<char> buf(4096);
    spank_err_t rc = spank_getenv(sp, name, buf.data(), static_cast<int>(buf.size()));
    if (rc == ESPANK_NOSPACE) {
        buf.resize(1 << 20);
        rc = spank_getenv(sp, name, buf.data(), static_cast<int>(buf.size()));
    }
    if (rc != ESPANK_SUCCESS) return std::nullopt;
    return std::string(buf.data());
}

int remote_init_post_opt(spank_t) { return 0; }

namespace {

// The step's cores on this node in Slurm's numbering (S_STEP_ALLOC_CORES). Only for the live
// node: an emulated topology (topology=XML) has other cores than the ones Slurm allocates here.
std::optional<std::vector<unsigned>> step_cores(spank_t sp, const PluginConfig& cfg) {
    if (cfg.topology) return std::nullopt;
    char* s = nullptr;
    if (spank_get_item(sp, S_STEP_ALLOC_CORES, &s) != ESPANK_SUCCESS || !s || !*s)
        return std::nullopt;
    try {
        return parse_cpulist(s);
    } catch (const std::exception& e) {
        log::warn("step cores '{}' from Slurm unreadable ({}); planning on the whole node", s,
                  e.what());
        return std::nullopt;
    }
}

}  // namespace

int remote_user_init(spank_t sp) {
    // Never fails: whatever goes wrong is kept for task_init, which may fail the step.
    auto& st = state();
    try {
        st.bind = effective_bind(sp);
        if (st.bind == Bind::none) return 0;
        uint32_t ntasks = 0;
        if (spank_get_item(sp, S_JOB_LOCAL_TASK_COUNT, &ntasks) != ESPANK_SUCCESS || ntasks == 0)
            throw Error("cannot read the step's local task count");
        auto getenv = [sp](const char* n) { return job_getenv(sp, n); };
        auto gpt = gpus_per_task_from_env(getenv, ntasks);
        st.step_gpus = step_gpus_from_env(getenv);
        auto cores = step_cores(sp, st.config);
        auto cache = plan_cache_path(st.config, st.bind, ntasks, gpt, st.step_gpus, cores);
        if (cache) {
            if (auto p = read_plans(st.config, *cache, ntasks)) {
                st.plans = std::move(*p);
                return 0;
            }
        }
        // Planned without the user's environment: which NCCL/UCX variables the user set is
        // checked per task when applying, so cached plans serve every job.
        const NodeTopology topo = load_node(st.config);
        auto none = [](const char*) -> std::optional<std::string> { return std::nullopt; };
        if (cores) {
            for (unsigned c : *cores)
                if (c >= topo.cores.size()) {
                    log::warn(
                        "Slurm's core ids {} do not fit this node's {} cores (slurm.conf's node "
                        "layout differs from "
                        "the hardware); planning on the whole node",
                        format_cpulist(*cores), topo.cores.size());
                    cores.reset();
                    break;
                }
        }
        std::vector<TaskBinding> plans;
        for (unsigned r = 0; r < ntasks; ++r) {
            auto b = plan_binding(topo, st.bind, ntasks, r, gpt, none, st.step_gpus, cores);
            if (!b) return 0;
            plans.push_back(std::move(*b));
        }
        if (cache) write_plans(*cache, plans);
        st.plans = std::move(plans);
    } catch (const std::exception& e) {
        st.plan_error = e.what();
    }
    return 0;
}

int remote_task_init(spank_t sp) {
    auto& st = state();
    int rank = 0;
    if (spank_get_item(sp, S_TASK_ID, &rank) != ESPANK_SUCCESS) rank = -1;
    if (st.plan_error) {
        slurm_error("netplace: task %d: cannot bind (--place-bind=%s): %s", rank,
                    to_string(st.bind).c_str(), st.plan_error->c_str());
        return -1;
    }
    if (st.bind == Bind::none || !st.plans) return 0;
    if (rank < 0 || static_cast<size_t>(rank) >= st.plans->size()) {
        slurm_error("netplace: task %d: no binding planned for it", rank);
        return -1;
    }
    const TaskBinding* plan = &(*st.plans)[static_cast<size_t>(rank)];
    // Slurm may bind GPUs to tasks itself (--gpus-per-task, --gpu-bind): then this task's
    // SLURM_STEP_GPUS is its own share. The task keeps Slurm's GPU and takes the plan made for
    // that GPU (cores and NIC near it), whichever rank it was planned for.
    if (st.step_gpus) {
        try {
            auto mine = step_gpus_from_env([sp](const char* n) { return job_getenv(sp, n); });
            if (mine && *mine != *st.step_gpus && *mine != planned_gpus(*plan)) {
                const TaskBinding* match = nullptr;
                for (const auto& p : *st.plans)
                    if (planned_gpus(p) == *mine) match = &p;
                if (match)
                    plan = match;
                else
                    log::warn(
                        "task {}: Slurm bound it to GPU(s) {}, which no planned task has; binding "
                        "as planned for it",
                        rank, format_cpulist(*mine));
            }
        } catch (const std::exception& e) {
            log::warn("task {}: {}; binding as planned", rank, e.what());
        }
    }
    const TaskBinding& b = *plan;
    try {
        // An emulated node (topology=XML) plans CPUs this host may not have: environment only.
        if (!st.config.topology) apply_affinity(b.cpus, static_cast<unsigned>(rank));
        for (const auto& [k, v] : b.env) {
            if ((k == "NCCL_IB_HCA" || k == "UCX_NET_DEVICES") && job_getenv(sp, k.c_str()))
                continue;
            if (spank_setenv(sp, k.c_str(), v.c_str(), 1) != ESPANK_SUCCESS)
                throw Error("cannot set " + k + " in the task's environment");
        }
    } catch (const std::exception& e) {
        slurm_error("netplace: task %d: cannot bind (--place-bind=%s): %s", rank,
                    to_string(st.bind).c_str(), e.what());
        return -1;
    }
    return 0;
}

}  // namespace netplace::slurm::plugin
