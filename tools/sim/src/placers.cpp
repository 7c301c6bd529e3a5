#include "netplace/sim/placers.hpp"

#include "netplace/core/error.hpp"
#include "netplace/sim/workload.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <limits>
#include <map>

#if defined(NETPLACE_SIM_HAVE_ENGINE) && __has_include("netplace/policies/engine.hpp")
#include "netplace/policies/engine.hpp"
#include "netplace/policies/policy.hpp"
#define NETPLACE_SIM_ENGINE 1
#endif

namespace netplace::sim {
namespace {

// The first site (federation order) whose capacity can hold the job.
std::optional<std::uint32_t> first_fit(const SimJob& job, const SimView& v) {
    for (std::size_t i = 0; i < v.sites(); ++i)
        if (v.fits(i, job)) return static_cast<std::uint32_t>(i);
    return std::nullopt;
}

// Runs where it was submitted; a job too big for its home site goes to the first site that fits.
class Local final : public Placer {
  public:
    std::string name() const override { return "local"; }
    std::optional<std::uint32_t> place(const SimJob& job, const SimView& v) override {
        if (v.fits(job.home, job)) return job.home;
        return first_fit(job, v);
    }
};

class Random final : public Placer {
  public:
    explicit Random(std::uint64_t seed) : rng_(derive_seed(seed, "random-policy")) {}
    std::string name() const override { return "random"; }
    std::optional<std::uint32_t> place(const SimJob& job, const SimView& v) override {
        candidates_.clear();
        for (std::size_t i = 0; i < v.sites(); ++i)
            if (v.fits(i, job)) candidates_.push_back(static_cast<std::uint32_t>(i));
        if (candidates_.empty()) return std::nullopt;
        return candidates_[rng_.below(candidates_.size())];
    }

  private:
    Rng rng_;
    std::vector<std::uint32_t> candidates_;
};

class RoundRobin final : public Placer {
  public:
    std::string name() const override { return "round-robin"; }
    std::optional<std::uint32_t> place(const SimJob& job, const SimView& v) override {
        const std::size_t n = v.sites();
        for (std::size_t k = 0; k < n; ++k) {
            const std::size_t i = (next_ + k) % n;
            if (v.fits(i, job)) {
                next_ = (i + 1) % n;
                return static_cast<std::uint32_t>(i);
            }
        }
        return std::nullopt;
    }

  private:
    std::size_t next_ = 0;
};

// Least outstanding work per core: (running work left + pending work, by requested times) /
// cores, from the same SiteLoad figures the engine reads. Ties go to the home site, then to
// federation order.
class LeastLoaded final : public Placer {
  public:
    std::string name() const override { return "least-loaded"; }
    std::optional<std::uint32_t> place(const SimJob& job, const SimView& v) override {
        std::optional<std::uint32_t> best;
        double best_load = std::numeric_limits<double>::infinity();
        auto consider = [&](std::size_t i) {
            if (!v.fits(i, job)) return;
            const SiteLoad l = v.load(i);
            const double load = (l.running_core_seconds_left + l.pending_core_seconds) /
                                std::max(1u, l.cores_total);
            if (load < best_load) {
                best_load = load;
                best = static_cast<std::uint32_t>(i);
            }
        };
        consider(job.home);
        for (std::size_t i = 0; i < v.sites(); ++i)
            if (i != job.home) consider(i);
        return best;
    }
};

// Slurm multi-cluster submission (sbatch -M a,b,c): the cluster where the job would start
// first, by each cluster's will-run answer; data is not considered. Ties go to the home site.
class EarliestStart final : public Placer {
  public:
    std::string name() const override { return "earliest-start"; }
    std::optional<std::uint32_t> place(const SimJob& job, const SimView& v) override {
        std::optional<std::uint32_t> best;
        double best_t = std::numeric_limits<double>::infinity();
        auto consider = [&](std::size_t i) {
            if (!v.fits(i, job)) return;
            const double t = v.estimated_start(i, job);
            if (!best || t < best_t) {
                best_t = t;
                best = static_cast<std::uint32_t>(i);
            }
        };
        consider(job.home);
        if (best && best_t <= v.now()) return best;  // starts now at home: nothing can beat it
        for (std::size_t i = 0; i < v.sites(); ++i)
            if (i != job.home) consider(i);
        return best;
    }
};

// Where the largest input lives (ties: the first listed); jobs without inputs stay home.
class DataLocal final : public Placer {
  public:
    std::string name() const override { return "data-local"; }
    std::optional<std::uint32_t> place(const SimJob& job, const SimView& v) override {
        std::uint32_t target = job.home;
        std::uint64_t biggest = 0;
        for (const auto& in : job.inputs)
            if (in.bytes > biggest) {
                biggest = in.bytes;
                target = in.site;
            }
        if (v.fits(target, job)) return target;
        if (v.fits(job.home, job)) return job.home;
        return first_fit(job, v);
    }
};

#ifdef NETPLACE_SIM_ENGINE
// A netplace policy, decided by the placement engine itself with the load view the site-state
// file would have given at the submit instant. The job asks for the policy by name, exactly as
// a user's `--place-policy` would.
class EnginePlacer final : public Placer {
  public:
    EnginePlacer(std::string label, std::string policy, policies::PolicySet set,
                 const PlacerContext& ctx)
        : label_(std::move(label)),
          policy_(std::move(policy)),
          fed_(*ctx.federation),
          residency_(ctx.site_residency),
          occupancy_(ctx.occupancy),
          predict_(ctx.predict_runtime) {
        // The engine's inputs once per replay; loads and link occupancy change per decision.
        in_.federation = fed_;
        in_.policies = std::move(set);
        in_.links = ctx.links;
        in_.loads.resize(fed_.sites.size());
        for (std::uint32_t i = 0; i < fed_.sites.size(); ++i) index_[fed_.sites[i].name] = i;
    }
    std::string name() const override { return label_; }
    std::optional<std::uint32_t> place(const SimJob& job, const SimView& v) override {
        JobRequest req;
        req.name = fmt::format("job{}", job.id);
        if (job.user >= 0) req.user = fmt::format("u{}", job.user);
        req.tasks = job.cores;
        req.cpus_per_task = 1;
        req.gpus = job.gpus;
        req.walltime_s = job.walltime_s;  // what a submission states; the real runtime is unknown
        if (predict_) {
            req.runtime_s = v.predicted_runtime(job);
            req.runtime_source =
                "predicted: mean of the user's last two runtimes, capped by the requested time "
                "(Tsafrir et al. 2007)";
        }
        req.home_site = fed_.sites[job.home].name;
        req.output_bytes = job.output_bytes;
        req.inputs.reserve(job.inputs.size());
        // Replica locations (the replay's caches), as the catalog and registry give them.
        in_.replicas.clear();
        for (std::size_t k = 0; k < job.inputs.size(); ++k) {
            Dataset d;
            d.name = fmt::format("d{}", job.inputs[k].dataset);
            v.replicas(job.inputs[k], copies_);
            if (!copies_.empty()) in_.replicas[d.name] = copies_;
            d.site = fed_.sites[job.inputs[k].site].name;
            d.bytes = job.inputs[k].bytes;
            if (job.inputs[k].site < residency_.size() && !residency_[job.inputs[k].site].empty())
                d.residency = residency_[job.inputs[k].site];
            req.inputs.push_back(std::move(d));
        }
        req.hints.policy = policy_;
        for (std::size_t i = 0; i < in_.loads.size(); ++i) {
            in_.loads[i] = v.load(i);
            if (!predict_) in_.loads[i]->runtime_ratio = 0;
        }
        if (occupancy_) update_occupancy(job, v);
        const PlacementDecision d = policies::place(req, in_);
        if (!d.site) return std::nullopt;
        auto it = index_.find(*d.site);
        if (it == index_.end()) return std::nullopt;
        return it->second;
    }

  private:
    std::string label_, policy_;
    const Federation& fed_;
    policies::PlacementInputs in_;
    std::vector<std::string> residency_;  // tag of the data at each site ("" = none)
    bool occupancy_, predict_;
    std::map<std::string, std::uint32_t> index_;
    std::vector<std::pair<std::uint32_t, std::uint32_t>> occupied_;  // links loaded last time
    std::vector<std::uint32_t> copies_;

    // The transfers on every link this job's inputs could take (from each dataset's site to each
    // site), as a staging ledger would report them; the rest stay 0 (idle).
    void update_occupancy(const SimJob& job, const SimView& v) {
        for (const auto& [from, to] : occupied_) in_.links.set_occupancy(from, to, 0, 0);
        occupied_.clear();
        const auto n = static_cast<std::uint32_t>(fed_.sites.size());
        for (const auto& in : job.inputs) {
            if (in.bytes == 0) continue;
            for (std::uint32_t t = 0; t < n; ++t) {
                const auto* f = in_.links.figures(in.site, t);
                if (!f || f->queued_transfers) continue;  // no figures, or done for this source
                const LinkLoad l = v.link_load(in.site, t);
                if (l.transfers == 0) continue;
                in_.links.set_occupancy(in.site, t, l.bytes_left, l.transfers);
                occupied_.emplace_back(in.site, t);
            }
        }
    }
};

// Policy files first (in the order given), then the built-in presets.
std::vector<policies::PolicySet> policy_sets(const PlacerContext& ctx) {
    std::vector<policies::PolicySet> sets;
    for (const auto& f : ctx.policy_files) sets.push_back(policies::PolicySet::load_file(f));
    sets.push_back(policies::PolicySet::builtin());
    return sets;
}

std::vector<std::string> engine_names(const PlacerContext& ctx) {
    std::vector<std::string> names;
    for (const auto& set : policy_sets(ctx))
        for (const auto& p : set.policies())
            if (std::find(names.begin(), names.end(), p.name) == names.end())
                names.push_back(p.name);
    return names;
}

std::unique_ptr<Placer> make_engine_placer(const std::string& label, const PlacerContext& ctx) {
    // "netplace:NAME" always means the engine; a bare name does when no baseline has it.
    const std::string name = label.rfind("netplace:", 0) == 0 ? label.substr(9) : label;
    for (auto& set : policy_sets(ctx)) {
        if (!set.find(name)) continue;
        if (!set.user_selectable(name))
            throw ConfigError(
                fmt::format("policy '{}' in {} is not user_selectable: the simulator asks for "
                            "policies by name as a job does; add it to user_selectable",
                            name, set.source()));
        return std::make_unique<EnginePlacer>(label, name, std::move(set), ctx);
    }
    return nullptr;
}
#endif

}  // namespace

const std::vector<std::string>& baseline_names() {
    static const std::vector<std::string> names{"local",        "random",         "round-robin",
                                                "least-loaded", "earliest-start", "data-local"};
    return names;
}

std::vector<std::string> engine_policy_names(const PlacerContext& ctx) {
#ifdef NETPLACE_SIM_ENGINE
    return engine_names(ctx);
#else
    (void)ctx;
    return {};
#endif
}

std::unique_ptr<Placer> make_placer(const std::string& name, const PlacerContext& ctx) {
    if (!ctx.federation) throw Error("make_placer: no federation given");
    if (name == "local") return std::make_unique<Local>();
    if (name == "random") return std::make_unique<Random>(ctx.seed);
    if (name == "round-robin") return std::make_unique<RoundRobin>();
    if (name == "least-loaded") return std::make_unique<LeastLoaded>();
    if (name == "earliest-start") return std::make_unique<EarliestStart>();
    if (name == "data-local") return std::make_unique<DataLocal>();
#ifdef NETPLACE_SIM_ENGINE
    if (auto p = make_engine_placer(name, ctx)) return p;
#endif
    std::vector<std::string> known = baseline_names();
    for (auto& n : engine_policy_names(ctx))
        known.push_back(std::find(known.begin(), known.end(), n) == known.end() ? n
                                                                                : "netplace:" + n);
    throw ConfigError(fmt::format("unknown policy '{}': use one of {}{}", name,
                                  fmt::join(known, ", "),
#ifdef NETPLACE_SIM_ENGINE
                                  ""
#else
                                  " (netplace policies need the placement engine, which this build "
                                  "lacks)"
#endif
                                  ));
}

}  // namespace netplace::sim
