// Load of an independent centre read over its REST API: the same SiteLoad figures the
// sinfo/squeue path gives for multi-cluster sites (collect.cpp), so the engine cannot tell them
// apart.
#include "netplace/core/error.hpp"
#include "netplace/slurm/collect.hpp"
#include "netplace/slurm/rest.hpp"

#include <fmt/format.h>
#include <unistd.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <map>

namespace netplace::slurm {
namespace {

using json = nlohmann::json;

const json& list(const json& j, const char* key, const char* what) {
    if (!j.is_object() || !j.contains(key) || !j[key].is_array())
        throw Error(fmt::format("REST {}: the answer has no {}[] list", what, key));
    return j[key];
}

std::string str(const json& j, const char* key) {
    return j.contains(key) && j[key].is_string() ? j[key].get<std::string>() : std::string();
}

unsigned count(const json& j, const char* key, const char* what) {
    if (!j.contains(key)) return 0;
    const auto& v = j[key];
    if (!v.is_number_integer() || v.get<long long>() < 0)
        throw Error(fmt::format("REST {}: {} is not a count", what, key));
    return static_cast<unsigned>(v.get<long long>());
}

// GPUs in a gres/tres string ("gpu:4", "gpu:a100:4(S:0-1)", "gres:gpu:2"); 0 if none.
unsigned gpus_in(const std::string& s) {
    unsigned total = 0;
    size_t p = 0;
    while ((p = s.find("gpu", p)) != std::string::npos) {
        size_t end = s.find_first_of(",(", p);
        std::string item = s.substr(p, end == std::string::npos ? std::string::npos : end - p);
        if (auto c = item.rfind(':'); c != std::string::npos) {
            try {
                total += static_cast<unsigned>(std::stoul(item.substr(c + 1)));
            } catch (const std::exception&) {
            }
        }
        p = end == std::string::npos ? s.size() : end;
    }
    return total;
}

// time_limit is in minutes; 22.05 reports INFINITE as 0xfffffffe / NO_VAL as 0xffffffff.
std::optional<double> limit_s(const json& job) {
    if (!job.contains("time_limit") || !job["time_limit"].is_number_integer()) return std::nullopt;
    const auto m = job["time_limit"].get<long long>();
    if (m <= 0 || m >= 0xfffffffeLL) return std::nullopt;
    return static_cast<double>(m) * 60.0;
}

}  // namespace

SiteLoad parse_rest_load(const std::string& site, const std::string& partitions_json,
                         const std::string& nodes_json, const std::string& jobs_json, double now,
                         const PartitionScope& scope) {
    SiteLoad l;
    l.site = site;
    const json partitions = json::parse(partitions_json, nullptr, false);
    const json nodes = json::parse(nodes_json, nullptr, false);
    const json jobs = json::parse(jobs_json, nullptr, false);
    // Partition name -> accepting new jobs (state UP; DOWN, DRAIN and INACTIVE start none).
    std::map<std::string, bool> up;
    std::vector<std::string> present;
    for (const auto& p : list(partitions, "partitions", "partitions")) {
        const std::string name = str(p, "name");
        if (name.empty()) throw Error("REST partitions: a partition has no name");
        up[name] = str(p, "state") == "UP";
        present.push_back(name);
    }
    scope.require_present(present, site);
    for (const auto& n : list(nodes, "nodes", "nodes")) {
        const unsigned cpus = count(n, "cpus", "nodes"), alloc = count(n, "alloc_cpus", "nodes");
        // slurmrestd lists each node's partitions (as sinfo -N lists a row per partition).
        bool counted = false, accepting = false;
        if (n.contains("partitions") && n["partitions"].is_array()) {
            for (const auto& p : n["partitions"]) {
                if (!p.is_string() || !scope.counts(p.get<std::string>())) continue;
                counted = true;
                if (auto it = up.find(p.get<std::string>()); it != up.end() && it->second)
                    accepting = true;
            }
        }
        if (!counted) continue;
        std::string state = str(n, "state");
        ++l.nodes_total;
        l.cores_total += cpus;
        // Down, drained or failing nodes offer nothing (sinfo's "other" CPUs).
        const bool usable = state == "idle" || state == "mixed" || state == "allocated";
        if (usable && accepting) l.cores_free += cpus > alloc ? cpus - alloc : 0;
        if (state == "idle") ++l.nodes_idle;
        l.gpus_total += gpus_in(str(n, "gres"));
    }
    unsigned gpus_used = 0;
    for (const auto& j : list(jobs, "jobs", "jobs")) {
        const std::string state = str(j, "job_state");
        if (state != "PENDING" && state != "RUNNING" && state != "CONFIGURING") continue;
        if (!scope.counts_any(str(j, "partition"))) continue;
        const unsigned cpus = count(j, "cpus", "jobs");
        const unsigned job_nodes = std::max(1u, count(j, "node_count", "jobs"));
        const unsigned gpus = gpus_in(str(j, "tres_per_node")) * job_nodes;
        const double limit = limit_s(j).value_or(86400.0);
        if (state == "PENDING") {
            ++l.jobs_pending;
            l.pending_core_seconds += cpus * limit;
            l.pending_gpu_seconds += gpus * limit;
        } else {
            ++l.jobs_running;
            gpus_used += gpus;
            double left = limit;
            if (j.contains("start_time") && j["start_time"].is_number() && limit_s(j))
                left = std::max(0.0, j["start_time"].get<double>() + limit - now);
            l.running_core_seconds_left += cpus * left;
        }
    }
    l.gpus_free = l.gpus_total > gpus_used ? l.gpus_total - gpus_used : 0;
    l.age_s = 0;
    return l;
}

SiteLoad collect_rest_site(const Site& site, double timeout_s, double now) {
    if (site.rest.service_token.empty())
        throw Error(
            fmt::format("site {} has access: rest but no rest.service_token for the "
                        "collector",
                        site.name));
    // The service token belongs to whoever runs the collector (root or a service account).
    SlurmRestClient c(
        site.rest, site.name,
        {site.rest.service_user, read_token_file(site.rest.service_token, ::geteuid(), now)});
    const auto partitions = c.get("partitions", timeout_s);
    const auto nodes = c.get("nodes", timeout_s);
    const auto jobs = c.get("jobs", timeout_s);
    return parse_rest_load(site.name, partitions, nodes, jobs, now,
                           PartitionScope{site.partitions});
}

}  // namespace netplace::slurm
