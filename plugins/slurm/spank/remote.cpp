// slurmstepd (remote context): load the node topology once per step, bind each task.
#include "plugin.hpp"

#include "netplace/core/error.hpp"
#include "netplace/core/log.hpp"
#include "netplace/slurm/binding.hpp"
#include "netplace/topology/node.hpp"

#include "netplace/core/file.hpp"

#include <hwloc.h>
#include <sched.h>
#include <sys/stat.h>

#include <fstream>
#include <memory>

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

// Seconds since the epoch of the last boot (/proc/stat btime): a cache older than that may
// describe hardware that has changed since.
std::optional<long> boot_time() {
    std::ifstream in("/proc/stat");
    std::string k;
    long v = 0;
    while (in >> k) {
        if (k == "btime" && (in >> v)) return v;
        in.ignore(1 << 20, '\n');
    }
    return std::nullopt;
}

struct HwlocTopo {
    hwloc_topology_t t = nullptr;
    ~HwlocTopo() {
        if (t) hwloc_topology_destroy(t);
    }
};
struct HwlocXmlBuffer {
    hwloc_topology_t t;
    char* buf = nullptr;
    ~HwlocXmlBuffer() {
        if (buf) hwloc_free_xmlbuffer(t, buf);
    }
};

// Discovers this host with every I/O object kept (GPUs, NICs: what the planner needs) and
// writes it as hwloc XML, atomically so concurrent steps never read half a file.
void write_host_xml(const std::string& path) {
    HwlocTopo h;
    if (hwloc_topology_init(&h.t) != 0) throw Error("hwloc_topology_init failed");
    hwloc_topology_set_io_types_filter(h.t, HWLOC_TYPE_FILTER_KEEP_ALL);
    if (hwloc_topology_load(h.t) != 0) throw Error(std::string("hwloc_topology_load: ") + std::strerror(errno));
    HwlocXmlBuffer x{h.t};
    int len = 0;
    if (hwloc_topology_export_xmlbuffer(h.t, &x.buf, &len, 0) != 0 || !x.buf)
        throw Error("hwloc XML export failed");
    auto slash = path.rfind('/');
    if (slash != std::string::npos && slash > 0) ::mkdir(path.substr(0, slash).c_str(), 0755);
    file::write_atomic(path, std::string(x.buf, len > 0 ? static_cast<size_t>(len - 1) : 0));
}

NodeTopology load_node(const PluginConfig& cfg) {
    if (cfg.topology) return topology::load_xml(*cfg.topology);
    if (!cfg.topology_cache) return topology::load_host();
    const std::string& cache = *cfg.topology_cache;
    struct stat st{};
    auto boot = boot_time();
    if (::stat(cache.c_str(), &st) == 0 && boot && st.st_mtime >= *boot) {
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
        log::warn("topology cache {} not written ({}); discovering the host each step", cache, e.what());
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

int remote_user_init(spank_t sp) {
    auto& st = state();
    try {
        if (effective_bind(sp) == Bind::none) return 0;
        // hwloc discovery costs milliseconds: once per step here, not once per task.
        st.topo = load_node(st.config);
    } catch (const std::exception& e) {
        st.topo_error = e.what();
    }
    return 0;
}

int remote_task_init(spank_t sp) {
    auto& st = state();
    Bind bind = Bind::none;
    try {
        bind = effective_bind(sp);
    } catch (const Error& e) {
        slurm_error("netplace: %s", e.what());
        return -1;
    }
    if (bind == Bind::none) return 0;
    if (!st.topo) {
        slurm_error("netplace: cannot bind tasks: node topology: %s",
                    st.topo_error ? st.topo_error->c_str() : "not loaded");
        return -1;
    }
    uint32_t ntasks = 0;
    int rank = 0;
    if (spank_get_item(sp, S_JOB_LOCAL_TASK_COUNT, &ntasks) != ESPANK_SUCCESS ||
        spank_get_item(sp, S_TASK_ID, &rank) != ESPANK_SUCCESS) {
        slurm_error("netplace: cannot read the task's local id and count");
        return -1;
    }
    auto getenv = [sp](const char* n) { return job_getenv(sp, n); };
    try {
        auto b = plan_binding(*st.topo, bind, ntasks, static_cast<unsigned>(rank),
                              gpus_per_task_from_env(getenv, ntasks), getenv);
        if (!b) return 0;
        // An emulated node (topology=XML) plans CPUs this host may not have: environment only.
        if (!st.config.topology) apply_affinity(b->cpus, static_cast<unsigned>(rank));
        for (const auto& [k, v] : b->env)
            if (spank_setenv(sp, k.c_str(), v.c_str(), 1) != ESPANK_SUCCESS)
                throw Error("cannot set " + k + " in the task's environment");
    } catch (const std::exception& e) {
        slurm_error("netplace: task %d: cannot bind (--place-bind=%s): %s", rank, to_string(bind).c_str(), e.what());
        return -1;
    }
    return 0;
}

}  // namespace netplace::slurm::plugin
