#pragma once
// Discrete-event replay of a workload across a federation.
//
// Model (docs/sim.md has the long form):
// - Placement happens once, at submit time, by a Placer that sees the state a real submission
//   would see then (per-site SiteLoad, the link figures).
// - Stage-in starts at placement. Each input not already at the chosen site crosses the directed
//   link (data site -> chosen site). Concurrent transfers on one directed link share its
//   bandwidth equally (processor sharing, recomputed whenever a transfer starts or ends); each
//   transfer also pays the link latency once. Inputs already at the site are read at the
//   intra-site bandwidth, unshared. A job enters its site's queue when all inputs have arrived
//   (like a Slurm job whose burst-buffer stage-in must finish before it is eligible).
// - Each site runs FCFS + EASY backfilling over its cores and GPUs: jobs start in arrival order
//   while they fit; when the head does not fit it gets a reservation at the earliest time enough
//   running jobs will have ended (by their requested times), and later jobs may start now if they
//   fit and either end (by requested time) before that reservation or use only resources the
//   head will not need then.
// - Runtime at a site = trace runtime x site speed factor; the requested time scales likewise.
// - Replicas (when SimOptions::replica_cache_bytes > 0): a dataset that crossed a link to a site
//   stays there in a per-site LRU cache of that many bytes; a later job at that site reading the
//   same dataset reads it locally. A job elsewhere fetches it from the replica or origin whose
//   link would finish it first (processor-sharing estimate, links_load below).
// - After the job ends its output crosses the link back to the home site (shared as above);
//   the job is done when the output has arrived. Cores are freed at the end of the run.
// - Events at the same instant: job ends, then transfers, then arrivals into queues, then
//   submissions in trace order; each touched site then runs one scheduling pass.
#include "netplace/core/site.hpp"
#include "netplace/policies/inputs.hpp"
#include "netplace/sim/workload.hpp"

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace netplace::sim {

// Bandwidth and latency of every directed pair of sites, flattened [from * n + to].
struct Network {
    std::size_t sites = 0;
    std::vector<double> bandwidth_bps;
    std::vector<double> latency_s;
    double intra_site_bandwidth_bps = 100e9;
    double bandwidth(std::size_t from, std::size_t to) const {
        return bandwidth_bps[from * sites + to];
    }
    double latency(std::size_t from, std::size_t to) const { return latency_s[from * sites + to]; }
};

// The simulated network: the link matrix the engine sees (policies::link_matrix: measured, else
// static, else default figures; pairs it lacks get the federation's defaults) and the
// intra-site bandwidth on the diagonal.
Network make_network(const Federation& federation, const policies::LinkMatrix& links);

struct JobRecord {
    std::int32_t site = -1;  // -1: no site could take the job (rejected)
    double submit_s = 0;
    double ready_s = 0;  // inputs all present at the site
    double start_s = 0;
    double end_s = 0;
    double done_s = 0;            // output back at the home site
    double run_s = 0;             // runtime at the chosen site
    std::uint64_t wan_bytes = 0;  // bytes that crossed an inter-site link
    double stage_in_s = 0;
    double stage_out_s = 0;
};

// One transfer on one directed link (from * sites + to), for the link-occupancy chart.
struct TransferRecord {
    std::uint32_t link = 0;
    double start_s = 0, end_s = 0;  // bytes done (latency not included)
    std::uint64_t bytes = 0;
};

// What is on a directed link now: the transfers queued or in flight and their bytes left.
struct LinkLoad {
    double bytes_left = 0;
    unsigned transfers = 0;
};

// What a placer may look at: the simulated federation at the submit instant.
class SimView {
  public:
    virtual ~SimView() = default;
    virtual double now() const = 0;
    virtual const Federation& federation() const = 0;
    virtual const Network& network() const = 0;
    virtual std::size_t sites() const = 0;
    // The site's capacity can ever hold the job.
    virtual bool fits(std::size_t site, const SimJob& job) const = 0;
    // What the site-state file would say about the site now (cores free, pending work, ...).
    virtual SiteLoad load(std::size_t site) const = 0;
    // When the job would start if submitted to the site now (Slurm's will-run answer, with
    // requested times; data ignored). See simulator.cpp for the estimate used.
    virtual double estimated_start(std::size_t site, const SimJob& job) const = 0;
    // Transfers on the directed link from -> to now (bytes left, count).
    virtual LinkLoad link_load(std::size_t from, std::size_t to) const = 0;
    // Predicted runtime at the reference speed (RuntimePredictor: the user's last two terminated
    // jobs, capped by the requested time); the requested time when the user has no history.
    virtual double predicted_runtime(const SimJob& job) const = 0;
    // Sites holding a replica of the job's k-th input now (the origin not included).
    virtual void replicas(const SimInput& input, std::vector<std::uint32_t>& sites) const = 0;
};

class Placer {
  public:
    virtual ~Placer() = default;
    virtual std::string name() const = 0;
    // The chosen site, or nullopt when no site qualifies (the job is counted as rejected).
    virtual std::optional<std::uint32_t> place(const SimJob& job, const SimView& view) = 0;
};

struct SimOptions {
    // Called now and then with (jobs submitted so far, total), for a progress bar.
    std::function<void(std::size_t, std::size_t)> progress;
    // Per-site replica cache (LRU) in bytes; 0: no caching, every read of a remote dataset moves
    // it again.
    std::uint64_t replica_cache_bytes = 0;
    // Keep one TransferRecord per transfer (for the link chart); off saves memory in benchmarks.
    bool record_transfers = true;
};

struct SimResult {
    std::string policy;
    std::vector<JobRecord> records;  // one per job, in workload order
    std::size_t rejected = 0;
    std::vector<std::string> warnings;
    std::size_t events = 0;
    std::vector<TransferRecord> transfers;  // in completion order
    std::size_t replica_reads = 0;          // inputs read from a cached replica at the job's site
    std::size_t replica_fetches = 0;        // inputs fetched from a replica rather than the origin
};

// Jobs must be sorted by submit time (build_workload does so).
SimResult simulate(const Federation& federation, const Network& network,
                   const std::vector<SimJob>& jobs, Placer& placer, const SimOptions& options = {});

}  // namespace netplace::sim
