#include "netplace/sim/placers.hpp"

#include "netplace/core/error.hpp"
#include "netplace/sim/workload.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <limits>

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
            const double load = (l.running_core_seconds_left + l.pending_core_seconds) / std::max(1u, l.cores_total);
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

}  // namespace

const std::vector<std::string>& baseline_names() {
    static const std::vector<std::string> names{"local", "random", "round-robin", "least-loaded", "earliest-start",
                                                "data-local"};
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
    for (auto& n : engine_policy_names(ctx)) known.push_back(n);
    throw ConfigError(fmt::format("unknown policy '{}': use one of {}{}", name, fmt::join(known, ", "),
#ifdef NETPLACE_SIM_ENGINE
                                  ""
#else
                                  " (netplace policies need the placement engine, which this build lacks)"
#endif
                                  ));
}

}  // namespace netplace::sim
