#pragma once
// Site-load collector: each site's Slurm cluster state (sinfo/squeue -M <cluster>) turned into
// the SiteLoad records of the site-state file that placement reads. Run by
// `netplace sites collect` from a systemd timer; never on a submission path.
#include "netplace/core/site.hpp"
#include "netplace/slurm/controllers.hpp"

#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace netplace::slurm {

// What the collector asks Slurm (fixed formats, so parsing never depends on a user's SINFO_FORMAT).
// node, CPUs A/I/O/T, state, gres, partition (default marked '*'), partition availability
inline constexpr const char* kSinfoFormat = "%N|%C|%T|%G|%P|%a";
// state, cpus, limit, left, tres/node, nodes, partition(s) ("p1,p2" for a pending job)
inline constexpr const char* kSqueueFormat = "%T|%C|%l|%L|%b|%D|%P";

// Which of a cluster's partitions count as the site's: those the federation file lists under the
// site's `partitions:` (what the federation's jobs may use there), every partition when it lists
// none. The same rule on both collector paths (sinfo/squeue and REST):
// - a node counts when it is in a counted partition (a node in no partition runs nothing);
// - its idle cores count as free only when one of those partitions is up (a DOWN, DRAIN or
//   INACTIVE partition starts no new job);
// - a job counts when it was submitted to a counted partition.
struct PartitionScope {
    std::vector<std::string> listed;  // empty: every partition
    bool counts(std::string_view partition) const;
    bool counts_any(std::string_view comma_list) const;  // a pending job's "p1,p2"
    // Throws Error when a listed partition is not among `present` (a typo in the federation
    // file would otherwise count nothing there, silently).
    void require_present(const std::vector<std::string>& present, const std::string& site) const;
};

// Parses `sinfo -h -N -o kSinfoFormat` and `squeue -h -t PD,R,CF -o kSqueueFormat` output of one
// cluster. Throws netplace::Error naming the line for output it does not understand.
SiteLoad parse_cluster_load(const std::string& site, const std::string& sinfo_out,
                            const std::string& squeue_out, const PartitionScope& scope = {});

// `sacct -M <cluster> -a -X -n -P -S now-7days -E now -s CD,TO -o kSacctRuntimeFormat`: the jobs
// that ended (completed or hit their limit) in the last week. Their actual over requested
// core-seconds (ElapsedRaw x AllocCPUS over TimelimitRaw minutes x 60 x AllocCPUS), capped at 1,
// is the site's SiteLoad::runtime_ratio: the engine scales its queue-wait estimate, built from
// time limits, by it. 0 (time limits taken at face value) when fewer than `min_jobs` jobs with a
// finite limit ended: a handful of test jobs is no history. Throws netplace::Error naming a line
// it does not understand.
// The same ratio per account (Slurm's lower-case name) from the same jobs, for each account with
// `min_jobs` of its own: SiteLoad::runtime_ratio_by_account, the engine's run term for a job of
// that account that gives no runtime of its own.
inline constexpr const char* kSacctRuntimeFormat = "ElapsedRaw,TimelimitRaw,AllocCPUS,Account";
inline constexpr unsigned kMinRuntimeHistory = 20;
struct RuntimeHistory {
    double site = 0;  // 0: not enough history
    std::map<std::string, double, std::less<>> by_account;
};
RuntimeHistory parse_runtime_history(const std::string& sacct_out,
                                     unsigned min_jobs = kMinRuntimeHistory);
// parse_runtime_history(...).site
double parse_runtime_ratio(const std::string& sacct_out, unsigned min_jobs = kMinRuntimeHistory);

// `sacctmgr -n -P show cluster where cluster=<names> format=<kSacctmgrClusterFormat>`: the
// controller records. A cluster whose slurmctld never registered (empty host, port 0) is left
// out: slurmdbd has no address for it either. Throws netplace::Error naming a malformed line.
inline constexpr const char* kSacctmgrClusterFormat =
    "Cluster,ControlHost,ControlPort,RPC,PluginIDSelect,Flags";
std::vector<Controller> parse_sacctmgr_clusters(const std::string& out);

// Runs argv (no shell) with a hard timeout; returns stdout. Throws netplace::Error with the
// command, its exit status and stderr's last line, or "timed out after N s".
std::string run_command(const std::vector<std::string>& argv, double timeout_s);

struct CollectResult {
    std::vector<SiteLoad> loads;
    std::vector<std::string> errors;    // one per cluster that could not be read
    std::vector<std::string> answered;  // clusters whose sinfo and squeue answered
    // Clusters whose accounting history (sacct) could not be read: their load is still written,
    // without runtime_ratio.
    std::vector<std::string> warnings;
};
// Every site of `fed` (by its cluster name), each client call bounded by `timeout_s`.
CollectResult collect_sites(const Federation& fed, double timeout_s,
                            const std::string& sinfo = "sinfo",
                            const std::string& squeue = "squeue",
                            const std::string& sacct = "sacct");

// Controller records (sacctmgr show cluster) of `clusters`, in one bounded call. Only clusters
// that just answered sinfo/squeue should be passed: a cluster that does not answer gets no
// record, so steered jobs take Slurm's own -M path to it. Throws netplace::Error.
std::vector<Controller> collect_controllers(const std::vector<std::string>& clusters,
                                            double timeout_s,
                                            const std::string& sacctmgr = "sacctmgr");

}  // namespace netplace::slurm
