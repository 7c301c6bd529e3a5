#pragma once
// Sites of a federation and the links between them: what federation.yaml describes, what the
// probe daemon measures and what the placement engine reads. Plain values.
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace netplace {

struct SiteCapacity {
    unsigned nodes = 0;
    unsigned cores = 0;
    std::uint64_t memory_bytes = 0;
    std::map<std::string, unsigned> gpus;  // GPU type -> count ("a100": 256)
    unsigned total_gpus() const {
        unsigned n = 0;
        for (const auto& [_, c] : gpus) n += c;
        return n;
    }
};

struct SitePrice {
    double core_hour = 0;  // currency units per core-hour
    double gpu_hour = 0;
};

struct Site {
    std::string name;
    std::string cluster;                   // Slurm cluster name (sbatch -M)
    std::vector<std::string> probe_urls;   // remote endpoint(s) serving a large file / byte ranges
    SiteCapacity capacity;
    double speed = 1.0;                    // runtime factor vs the reference site (0.5 = twice as fast)
    SitePrice price;
    std::vector<std::string> features;
    std::vector<std::string> partitions;
    std::optional<double> static_wait_s;   // queue wait assumed when no site-state is known
};

// Static or configured figures for one directed link.
struct LinkFigures {
    std::string from;
    std::string to;
    std::optional<double> bandwidth_bps;
    std::optional<double> latency_s;
};

struct Federation {
    std::string name;
    std::string local_site;                // the site this host belongs to
    std::vector<Site> sites;
    std::vector<LinkFigures> links;        // static figures, used until measured
    double default_bandwidth_bps = 1e9;    // for pairs with neither measurement nor static figure
    double default_latency_s = 0.02;
    double intra_site_bandwidth_bps = 100e9;  // data already at the site: parallel FS speed
    std::string source;                    // file it was loaded from

    const Site* find(const std::string& site) const {
        for (const auto& s : sites)
            if (s.name == site) return &s;
        return nullptr;
    }
    const Site* find_cluster(const std::string& cluster) const {
        for (const auto& s : sites)
            if (s.cluster == cluster) return &s;
        return nullptr;
    }
};

// Health of a measured link, as the estimator judges it.
enum class LinkHealth { unknown, up, degraded, down, stale };

std::string to_string(LinkHealth health);

// The best current knowledge of one directed link (from -> to: data flows that way).
struct LinkEstimate {
    std::string from;
    std::string to;
    double bandwidth_bps = 0;
    double latency_s = 0;
    LinkHealth health = LinkHealth::unknown;
    bool measured = false;                 // false: static figure or default
    std::optional<double> age_s;           // since last successful measurement
};

// Current load of a site, from the site-state file (collected from Slurm).
struct SiteLoad {
    std::string site;
    unsigned nodes_total = 0, nodes_idle = 0;
    unsigned cores_total = 0, cores_free = 0;
    unsigned gpus_total = 0, gpus_free = 0;
    unsigned jobs_running = 0, jobs_pending = 0;
    double pending_core_seconds = 0;       // requested cores x time limit of pending jobs
    double pending_gpu_seconds = 0;
    double running_core_seconds_left = 0;  // cores x remaining time limit of running jobs
    std::optional<double> age_s;
};

}  // namespace netplace
