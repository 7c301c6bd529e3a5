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
    std::uint64_t total_gpus() const {     // 64-bit: a sum of 32-bit counts cannot wrap
        std::uint64_t n = 0;
        for (const auto& [_, c] : gpus) n += c;
        return n;
    }
};

struct SitePrice {
    double core_hour = 0;  // currency units per core-hour
    double gpu_hour = 0;
};

// How a site's Slurm is reached. multicluster: it shares the home slurmdbd and munge key, so
// `sbatch -M` (or direct steering) submits there. rest: an independent centre whose only door is
// its slurmrestd, authenticated with JWTs (plugins/slurm rest_*.cpp; docs/slurm.md).
enum class SiteAccess { multicluster, rest };

// federation.yaml `rest:` of an `access: rest` site.
struct RestAccess {
    std::string url;              // slurmrestd base, http(s)://host:port (no path)
    std::string api = "v0.0.38";  // OpenAPI plugin version slurmrestd runs (-s openapi/<api>)
    // Where a user's JWT for this centre lives: %h home directory (passwd), %u user name, %s
    // site name. Must be a regular file owned by the user, not readable by group or others.
    std::string user_token = "%h/.netplace/tokens/%s.jwt";
    std::string service_token;  // the collector's JWT file (empty: the collector skips it)
    std::string service_user = "netplace";  // user name the service token was issued for
    double connect_timeout_s = 3;
    double timeout_s = 10;  // one forwarded submission, all calls together
    // When forwarding fails (unreachable, token refused, REST error): run at home with a warning,
    // or refuse the submission with the reason.
    enum class OnFailure { home, fail };
    OnFailure on_forward_failure = OnFailure::home;
};

struct Site {
    std::string name;
    SiteAccess access = SiteAccess::multicluster;
    RestAccess rest;                      // access == rest only
    std::string cluster;                  // Slurm cluster name (sbatch -M)
    std::vector<std::string> probe_urls;  // remote endpoint(s) serving a large file / byte ranges
    SiteCapacity capacity;
    double speed = 1.0;  // runtime factor vs the reference site (0.5 = twice as fast)
    SitePrice price;
    std::vector<std::string> features;
    std::vector<std::string> partitions;
    std::optional<double> static_wait_s;  // queue wait assumed when no site-state is known
    std::vector<std::string> regions;  // names this site has in imported matrices ("aws:us-east-1")
    // Signed-snapshot exchange: the site's Ed25519 public key(s) (base64, `netplace keygen`) --
    // the admin's federation file is the trust anchor -- and where its snapshot is served (the
    // site's own URL first, then relays). Tried in order.
    std::vector<std::string> public_keys;
    std::vector<std::string> snapshot_urls;
};

// Static or configured figures for one directed link.
struct LinkFigures {
    std::string from;
    std::string to;
    std::optional<double> bandwidth_bps;
    std::optional<double> latency_s;
};

// How the probe daemon measures links (federation.yaml `probing:`); defaults are conservative.
struct ProbeSettings {
    std::string state_file = "/var/lib/netplace/links.json";
    std::optional<std::string> prometheus_file;  // node_exporter textfile collector output
    double bandwidth_interval_s = 600;           // per link
    double latency_interval_s = 60;
    double jitter = 0.2;                    // +- fraction of the interval, so probes do not align
    unsigned streams = 4;                   // parallel HTTP range downloads per bandwidth probe
    std::uint64_t max_bytes = 64ull << 20;  // byte cap per bandwidth probe
    std::uint64_t daily_budget_bytes = 4ull << 30;  // per link and UTC day
    unsigned latency_samples = 5;
    double connect_timeout_s = 5;
    double timeout_s = 30;           // whole transfer
    double low_speed_bps = 8e3;      // abort a transfer slower than this ...
    double low_speed_time_s = 10;    // ... for this long
    unsigned failures_down = 3;      // consecutive failures before a link is `down`
    double max_age_s = 3600;         // older measurements are `stale`
    double degraded_fraction = 0.5;  // below this share of the usual figure: `degraded`
    double backoff_max_s = 3600;
    std::optional<std::string> ca_file;  // extra CA bundle for HTTPS endpoints
};

// The exchange of signed site snapshots between independent sites (federation.yaml `exchange:`).
struct ExchangeSettings {
    std::optional<std::string> private_key;   // this site's key file (mode 0600, netplace keygen)
    std::optional<std::string> publish_file;  // own signed snapshot, served by the site's nginx
    std::optional<std::string> relay_dir;     // verified peer snapshots re-served from here
    std::optional<std::string> site_state;    // own load: the `netplace sites collect` output
    std::optional<std::string> merged_site_state;  // own + peers' load, for placement
    std::optional<std::string> status_file;  // per-peer verdicts (default: exchange.json by state)
    double interval_s = 60;                  // between fetch rounds
    double jitter = 0.2;
    double validity_s = 900;             // a snapshot expires this long after it was generated
    std::uint64_t max_bytes = 4u << 20;  // larger bodies are refused while downloading
    double connect_timeout_s = 2;
    double timeout_s = 5;    // whole transfer: a slow-loris peer costs at most this
    unsigned parallel = 64;  // concurrent fetches in a round
};

struct Federation {
    std::string name;
    std::string local_site;  // the site this host belongs to
    std::vector<Site> sites;
    std::vector<LinkFigures> links;      // static figures, used until measured
    double default_bandwidth_bps = 1e9;  // for pairs with neither measurement nor static figure
    double default_latency_s = 0.02;
    double intra_site_bandwidth_bps = 100e9;  // data already at the site: parallel FS speed
    std::string source;                       // file it was loaded from
    ProbeSettings probing;
    ExchangeSettings exchange;

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
    bool measured = false;           // false: static figure or default
    std::optional<double> age_s;     // since last successful measurement
    std::optional<double> jitter_s;  // latency jitter, when measured
    std::string source;              // "probe", "iperf3", "perfsonar", "csv", "static", "default"
    std::string origin;  // site that measured it (signed snapshot); empty: this host's own state
    // Occupancy: transfers queued or in flight on this link now, and their bytes left (staging
    // ledger in production, the simulator's own transfers in a replay). 0/0 = idle or unknown:
    // the engine then uses the unshared figure, as before occupancy existed.
    double queued_bytes = 0;
    unsigned queued_transfers = 0;
};

// Current load of a site, from the site-state file (collected from Slurm).
struct SiteLoad {
    std::string site;
    unsigned nodes_total = 0, nodes_idle = 0;
    unsigned cores_total = 0, cores_free = 0;
    unsigned gpus_total = 0, gpus_free = 0;
    unsigned jobs_running = 0, jobs_pending = 0;
    double pending_core_seconds = 0;  // requested cores x time limit of pending jobs
    double pending_gpu_seconds = 0;
    double running_core_seconds_left = 0;  // cores x remaining time limit of running jobs
    // Actual over requested run time of the site's recent jobs (accounting history); the engine
    // scales the queue-wait estimate, which is built from time limits, by it. 0: unknown (time
    // limits taken at face value).
    double runtime_ratio = 0;
    // The same per Slurm account (lower case) with enough history of its own: the engine's run
    // term uses the job's account's figure at this host's site when the job gives no runtime.
    std::map<std::string, double, std::less<>> runtime_ratio_by_account;
    std::optional<double> age_s;
};

}  // namespace netplace
