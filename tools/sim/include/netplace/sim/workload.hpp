#pragma once
// What the simulator replays: jobs from a trace plus the data each job reads and writes, which
// SWF does not record. A data model (side-car YAML, or the built-in default) assigns home sites,
// input datasets and output sizes from stated distributions, reproducibly from a seed.
#include "netplace/core/site.hpp"
#include "netplace/sim/swf.hpp"

#include <cstdint>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <vector>

namespace netplace::sim {

// Seeded generator with a fixed algorithm (mt19937_64 and our own transforms), so the same seed
// gives the same workload with any standard library.
class Rng {
  public:
    explicit Rng(std::uint64_t seed);
    std::uint64_t next();
    double uniform();                      // [0, 1)
    double normal();                       // standard normal
    std::uint64_t below(std::uint64_t n);  // [0, n)

  private:
    std::mt19937_64 engine_;  // its output sequence is fixed by the C++ standard
};

// Mixes a seed with a label so independent streams (home sites, sizes, random policy) do not
// shift when one of them draws more numbers.
std::uint64_t derive_seed(std::uint64_t seed, std::string_view label);

struct Distribution {
    enum class Kind { fixed, uniform, lognormal, exponential };
    Kind kind = Kind::fixed;
    double a = 0;  // fixed: value; uniform: min; lognormal: median; exponential: mean
    double b = 0;  // uniform: max; lognormal: sigma
    std::optional<double> min, max;  // clamp after drawing
    double sample(Rng& rng) const;
    std::string describe() const;
};

struct SimInput {
    std::uint32_t site = 0;  // index into the federation's sites: where the dataset lives
    std::uint64_t bytes = 0;
    // Which dataset (unique per workload): two jobs reading the same dataset carry the same id,
    // so a replica one of them left at a site serves the other (SimOptions::replica_cache_bytes).
    std::uint32_t dataset = 0;
};

struct SimJob {
    std::int64_t id = 0;
    double submit_s = 0;
    double runtime_s = 0;   // at a site of speed 1.0
    double walltime_s = 0;  // requested time (>= runtime_s), for backfilling
    unsigned cores = 1;
    unsigned gpus = 0;
    std::int64_t user = -1, queue = -1, partition = -1;
    std::uint32_t home = 0;  // site index: where the job is submitted, outputs go
    std::vector<SimInput> inputs;
    std::uint64_t output_bytes = 0;
};

struct DataModel {
    enum class HomeFrom { partition, queue, user, fixed, random };
    HomeFrom home_from = HomeFrom::partition;
    std::vector<std::pair<std::string, std::string>> home_map;  // SWF number or header name -> site
    std::optional<std::string> home_site;                       // for `fixed`
    Distribution input_count{Distribution::Kind::fixed, 0, 0, {}, {}};
    Distribution input_bytes{Distribution::Kind::fixed, 0, 0, {}, {}};
    double input_at_home = 1.0;  // probability that a dataset lives at the home site
    // Probability that an input is a dataset the same user read before (one of their last
    // `reuse_recent` distinct datasets, uniformly), rather than a fresh one. 0: every input new.
    double input_reuse = 0;
    unsigned reuse_recent = 8;
    Distribution output_bytes{Distribution::Kind::fixed, 0, 0, {}, {}};
    std::optional<unsigned> gpus_per_job;  // SWF has no GPUs; a model may ask for some
    double gpu_job_fraction = 0;
    std::optional<std::uint64_t> seed;
    // Residency tag of the data living at a site (`residency: {cern: eu-only}`): the engine then
    // lets a job read it only where the policy file's `residency:` allows that tag, as on every
    // other door. Sites not listed: untagged data.
    std::vector<std::pair<std::string, std::string>> residency;
    std::string source;  // file, or "built-in default"
};

// Reads the side-car YAML (strict: unknown keys and bad values are file:line:col errors).
DataModel load_data_model(const std::string& path, const Federation& federation);
DataModel parse_data_model(const std::string& text, const std::string& name,
                           const Federation& federation);

struct WorkloadStats {
    std::size_t records = 0;
    std::size_t skipped_no_runtime = 0;  // runtime -1 (cancelled before start)
    std::size_t skipped_no_cores = 0;
    std::size_t clamped_walltime = 0;  // requested time missing or below the runtime
    std::vector<std::string> notes;
};

// Turns trace records into simulated jobs: cores = requested processors (else allocated),
// walltime = requested time, raised to the runtime when it is missing or shorter (the job did
// run that long, so its limit was at least that). Submit times are rebased to start at 0.
std::vector<SimJob> build_workload(const SwfTrace& trace, const Federation& federation,
                                   const DataModel& model, std::uint64_t seed,
                                   WorkloadStats* stats = nullptr);

}  // namespace netplace::sim
