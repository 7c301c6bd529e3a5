#include "netplace/policies/engine.hpp"

#include "netplace/policies/engine_steps.hpp"

#include "netplace/core/checked.hpp"
#include "netplace/core/link_sharing.hpp"
#include "netplace/core/units.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <string_view>
#include <utility>

namespace netplace::policies {
namespace {

constexpr double inf = std::numeric_limits<double>::infinity();

bool contains(const std::vector<std::string>& v, std::string_view s) {
    for (const auto& x : v)
        if (x == s) return true;
    return false;
}

template <typename T>
const T* find_pair(const std::vector<std::pair<std::string, T>>& v, std::string_view key) {
    for (const auto& [k, val] : v)
        if (k == key) return &val;
    return nullptr;
}

void add_reason(std::optional<std::string>& excluded, std::string reason) {
    if (!excluded)
        excluded = std::move(reason);
    else
        excluded->append("; ").append(reason);
}

// The figures of link from -> to: the estimate when one is known, else the federation defaults.
// Inlined so the caller builds the value in its slot: returned through memory, the slot's 16-byte
// copy read the fields just written 8 bytes at a time (a store-forwarding stall on every link of
// every site, a fifth of the per-site step's time).
[[gnu::always_inline]] inline LinkUse link_figures(const Federation& fed, const LinkMatrix& links,
                                                   int from, std::size_t to) {
    if (from >= 0) {
        if (const auto* l = links.figures(static_cast<std::size_t>(from), to))
            return {l->bandwidth_bps, l->latency_s,        true,           0, l->health,
                    l->measured,      l->queued_transfers, l->queued_bytes};
    }
    return {fed.default_bandwidth_bps, fed.default_latency_s, false, 0};
}

const char* health_word(LinkHealth h) {
    switch (h) {
        case LinkHealth::degraded:
            return "degraded";
        case LinkHealth::stale:
            return "stale";
        default:
            return nullptr;
    }
}

bool is_down(const LinkUse& l) { return l.known && l.health == LinkHealth::down; }

// The site a stage-in reads from: the copy's site when estimate_site chose one, else the data's.
const std::string& source_name(const Federation& fed, const SourceGroup& g, const LinkUse& l) {
    return l.from >= 0 ? fed.sites[static_cast<std::size_t>(l.from)].name : *g.name;
}

// Seconds to move `bytes` over `l`, shared with the transfers already on it (processor sharing).
double link_seconds(const LinkUse& l, std::uint64_t bytes) {
    return l.queued_transfers == 0
               ? transfer_s(bytes, l.bandwidth_bps, l.latency_s)
               : shared_transfer_s(static_cast<double>(bytes), l.bandwidth_bps, l.latency_s,
                                   l.queued_bytes, l.queued_transfers);
}

// The nearest replica: a site holding a copy of all of the group's bytes is a stage-in source as
// good as the data's own site; the fastest link (occupancy-aware) wins, a down one never, a tie
// stays with the data's own site. Out of line: most jobs' data has no copies.
[[gnu::noinline]] void nearest_copy(const Federation& fed, const LinkMatrix& links,
                                    const SourceGroup& g, std::size_t to, std::uint64_t bytes,
                                    LinkUse& l) {
    for (const auto& [s, b] : g.local) {
        if (s == to || b < g.bytes) continue;
        LinkUse alt = link_figures(fed, links, static_cast<int>(s), to);
        alt.from = static_cast<int>(s);
        alt.seconds = link_seconds(alt, bytes);
        if (!is_down(alt) && (is_down(l) || alt.seconds < l.seconds)) l = alt;
    }
}

// ---- step 4: the checks. Each says why the site may not run the job, or nothing. ----

std::optional<std::string> check_stage_in_links(const JobFacts& f, const SiteCandidate& c,
                                                std::vector<std::string>&) {
    std::optional<std::string> why;
    const std::string& site = c.site->name;
    for (std::size_t k = 0; k < f.groups.size(); ++k) {
        if (!c.inputs[k]) continue;
        const SourceGroup& g = f.groups[k];
        const LinkUse& l = *c.inputs[k];
        const std::string& from = source_name(f.in->federation, g, l);
        if (is_down(l)) {
            add_reason(
                why, fmt::format("link {}->{} is down (dataset '{}')", from, site, g.first->name));
        } else if (!std::isfinite(l.seconds)) {
            add_reason(why, fmt::format("link {}->{} has no bandwidth (dataset '{}')", from, site,
                                        g.first->name));
        }
        // Only a link below the strictest minimum can be below any of them (most are not).
        if (!(g.bytes > 0 && l.bandwidth_bps < f.min_bandwidth_bps)) continue;
        for (const auto& src : f.active) {
            const auto& mb = src.effects->min_bandwidth_bps;
            if (mb && l.bandwidth_bps < *mb) {
                add_reason(why, fmt::format(
                                    "link {}->{} at {} is below the minimum bandwidth {} set by {}",
                                    from, site, units::format_rate(l.bandwidth_bps),
                                    units::format_rate(*mb), origin(*f.policy, src)));
            }
        }
    }
    return why;
}

std::optional<std::string> check_output_link(const JobFacts& f, const SiteCandidate& c,
                                             std::vector<std::string>&) {
    if (c.output && !std::isfinite(c.output->seconds))
        return fmt::format("link {}->{} has no bandwidth for the output", c.site->name, f.home);
    return std::nullopt;
}

std::optional<std::string> check_avoided(const JobFacts& f, const SiteCandidate& c,
                                         std::vector<std::string>&) {
    if (f.marks[c.index] & kAvoided) return "avoided by the job";
    return std::nullopt;
}

std::optional<std::string> check_job_allowed(const JobFacts& f, const SiteCandidate& c,
                                             std::vector<std::string>&) {
    if (!f.job->hints.allowed.empty() && !(f.marks[c.index] & kJobAllowed))
        return "not among the job's allowed sites";
    return std::nullopt;
}

// allow/deny of the policy and its matching rules; `mode: default` lets the job name the site.
std::optional<std::string> check_policy_sites(const JobFacts& f, const SiteCandidate& c,
                                              std::vector<std::string>& notes) {
    std::optional<std::string> why;
    if (!(f.marks[c.index] & kPolicySites)) return why;  // no effect in force names it out
    const std::string& site = c.site->name;
    for (const auto& src : f.active) {
        const Effects& fx = *src.effects;
        const bool denied = contains(fx.deny, site);
        const bool outside = !fx.allow.empty() && !contains(fx.allow, site);
        if (!denied && !outside) continue;
        if (fx.mode == Mode::default_ && c.user_named) {
            notes.push_back(fmt::format("{} {} by default; allowed because the job names it",
                                        origin(*f.policy, src),
                                        denied ? "denies it" : "leaves it out"));
            continue;
        }
        add_reason(why, (denied ? "denied by " : "not allowed by ") + origin(*f.policy, src));
    }
    return why;
}

std::optional<std::string> check_account_acl(const JobFacts& f, const SiteCandidate& c,
                                             std::vector<std::string>&) {
    const std::string& site = c.site->name;
    if (f.account_unknown) {
        // Fail closed: a job that names no account could be charged to any of them.
        for (const auto& [acct, acl] : f.in->policies.accounts()) {
            if (contains(acl.deny, site) || (!acl.allow.empty() && !contains(acl.allow, site)))
                return fmt::format(
                    "the job names no account and account '{}' may not use this site", acct);
        }
        return std::nullopt;
    }
    if (!f.acl) return std::nullopt;
    const std::string acct = slurm_account_name(f.job->account);
    if (contains(f.acl->deny, site)) return fmt::format("account '{}' may not use this site", acct);
    if (!f.acl->allow.empty() && !contains(f.acl->allow, site))
        return fmt::format("account '{}' is not allowed on this site", acct);
    return std::nullopt;
}

// The default policy's hard constraints when the job selected another policy: what the admin
// enforces binds whatever policy a user chooses (a selectable policy can only narrow it).
std::optional<std::string> check_admin_policy(const JobFacts& f, const SiteCandidate& c,
                                              std::vector<std::string>&) {
    std::optional<std::string> why;
    const Site& site = *c.site;
    for (const auto& src : f.admin_active) {
        const Effects& fx = *src.effects;
        const std::string who = origin(*f.admin, src);
        if (contains(fx.deny, site.name))
            add_reason(why, "denied by " + who);
        else if (!fx.allow.empty() && !contains(fx.allow, site.name))
            add_reason(why, "not allowed by " + who);
        for (const auto& feat : fx.require_features)
            if (!contains(site.features, feat))
                add_reason(why, fmt::format("lacks feature '{}' required by {}", feat, who));
        for (const auto& t : fx.require_gpu_types)
            if (!site.capacity.gpus.count(t))
                add_reason(why, fmt::format("has no '{}' GPUs, required by {}", t, who));
        if (fx.min_bandwidth_bps) {
            for (std::size_t k = 0; k < f.groups.size() && k < c.inputs.size(); ++k) {
                const auto& l = c.inputs[k];
                if (l && f.groups[k].bytes > 0 && l->bandwidth_bps < *fx.min_bandwidth_bps)
                    add_reason(
                        why, fmt::format("link {}->{} at {} is below the minimum bandwidth {} set "
                                         "by {}",
                                         source_name(f.in->federation, f.groups[k], *l), site.name,
                                         units::format_rate(l->bandwidth_bps),
                                         units::format_rate(*fx.min_bandwidth_bps), who));
            }
        }
        const double moving = c.estimate->stage_in_s - c.estimate->link_wait_s;
        if (fx.max_stage_in_s && moving > *fx.max_stage_in_s)
            add_reason(why, fmt::format("stage-in {} exceeds the {} limit set by {}",
                                        units::format_duration(moving),
                                        units::format_duration(*fx.max_stage_in_s), who));
    }
    return why;
}

std::optional<std::string> check_residency(const JobFacts& f, const SiteCandidate& c,
                                           std::vector<std::string>&) {
    std::optional<std::string> why;
    for (const auto& r : f.residency) {
        const bool ok =
            r.sites ? contains(*r.sites, c.site->name) : r.dataset->site == c.site->name;
        if (!ok) {
            add_reason(why, fmt::format("residency: dataset '{}' (tag '{}') may not be read here",
                                        r.dataset->name, *r.dataset->residency));
        }
    }
    return why;
}

std::optional<std::string> check_job_features(const JobFacts& f, const SiteCandidate& c,
                                              std::vector<std::string>&) {
    std::optional<std::string> why;
    for (const auto& feat : f.job->features)
        if (!contains(c.site->features, feat))
            add_reason(why, fmt::format("lacks feature '{}' the job requires", feat));
    return why;
}

std::optional<std::string> check_policy_requirements(const JobFacts& f, const SiteCandidate& c,
                                                     std::vector<std::string>&) {
    std::optional<std::string> why;
    for (const auto& src : f.active) {
        for (const auto& feat : src.effects->require_features)
            if (!contains(c.site->features, feat))
                add_reason(why, fmt::format("lacks feature '{}' required by {}", feat,
                                            origin(*f.policy, src)));
        for (const auto& t : src.effects->require_gpu_types)
            if (!c.site->capacity.gpus.count(t))
                add_reason(why, fmt::format("has no '{}' GPUs, required by {}", t,
                                            origin(*f.policy, src)));
    }
    return why;
}

std::optional<std::string> check_partition(const JobFacts& f, const SiteCandidate& c,
                                           std::vector<std::string>&) {
    const std::string& p = f.job->partition;
    if (!p.empty() && !c.site->partitions.empty() && !contains(c.site->partitions, p))
        return fmt::format("has no partition '{}'", p);
    return std::nullopt;
}

std::optional<std::string> check_nodes(const JobFacts& f, const SiteCandidate& c,
                                       std::vector<std::string>&) {
    const SiteCapacity& cap = c.site->capacity;
    if (f.job->nodes > cap.nodes && cap.nodes > 0)
        return fmt::format("capacity: {} nodes, the job needs {}", cap.nodes, f.job->nodes);
    return std::nullopt;
}

std::optional<std::string> check_cores(const JobFacts& f, const SiteCandidate& c,
                                       std::vector<std::string>&) {
    if (f.cores > c.site->capacity.cores)
        return fmt::format("capacity: {} cores, the job needs {}", c.site->capacity.cores, f.cores);
    return std::nullopt;
}

std::optional<std::string> check_memory(const JobFacts& f, const SiteCandidate& c,
                                        std::vector<std::string>&) {
    const SiteCapacity& cap = c.site->capacity;
    const std::uint64_t need = f.job->memory_bytes;
    if (need > 0 && cap.memory_bytes > 0 && cap.nodes > 0 && need > cap.memory_bytes / cap.nodes)
        return fmt::format("capacity: {} memory per node, the job needs {}",
                           units::format_size(cap.memory_bytes / cap.nodes),
                           units::format_size(need));
    return std::nullopt;
}

std::optional<std::string> check_gpus(const JobFacts& f, const SiteCandidate& c,
                                      std::vector<std::string>&) {
    const JobRequest& job = *f.job;
    if (job.gpus == 0) return std::nullopt;
    const SiteCapacity& cap = c.site->capacity;
    if (job.gpu_type) {
        const auto it = cap.gpus.find(*job.gpu_type);
        const unsigned have = it == cap.gpus.end() ? 0 : it->second;
        if (have < job.gpus)
            return fmt::format("capacity: {} '{}' GPUs, the job needs {}", have, *job.gpu_type,
                               job.gpus);
    } else if (cap.total_gpus() < job.gpus) {
        return fmt::format("capacity: {} GPUs, the job needs {}", cap.total_gpus(), job.gpus);
    }
    return std::nullopt;
}

std::optional<std::string> check_max_stage_in(const JobFacts& f, const SiteCandidate& c,
                                              std::vector<std::string>&) {
    std::optional<std::string> why;
    // The transfer itself: time spent waiting for a busy link (wait_for_link) moves nothing.
    const double moving = c.estimate->stage_in_s - c.estimate->link_wait_s;
    if (!(moving > f.max_stage_in_s)) return why;  // within the strictest limit
    for (const auto& src : f.active) {
        const auto& ms = src.effects->max_stage_in_s;
        if (ms && moving > *ms) {
            add_reason(why, fmt::format("stage-in {} exceeds the {} limit set by {}",
                                        units::format_duration(moving), units::format_duration(*ms),
                                        origin(*f.policy, src)));
        }
    }
    return why;
}

// Whether any effect in force has `what`: a check that reads it is skipped for other jobs.
template <typename Pred>
bool any_effect(const JobFacts& f, Pred what) {
    return std::any_of(f.active.begin(), f.active.end(),
                       [&](const EffectSource& s) { return what(*s.effects); });
}

constexpr SiteCheck kChecks[] = {
    {"stage-in-links", check_stage_in_links, [](const JobFacts& f) { return !f.groups.empty(); }},
    {"output-link", check_output_link,
     [](const JobFacts& f) { return f.job->output_bytes > 0 && !f.home.empty(); }},
    {"avoided-by-job", check_avoided,
     [](const JobFacts& f) { return !f.job->hints.avoided.empty(); }},
    {"job-allowed-sites", check_job_allowed,
     [](const JobFacts& f) { return !f.job->hints.allowed.empty(); }},
    {"policy-sites", check_policy_sites,
     [](const JobFacts& f) {
         return any_effect(f, [](const Effects& e) { return !e.allow.empty() || !e.deny.empty(); });
     }},
    {"admin-policy", check_admin_policy, [](const JobFacts& f) { return !f.admin_active.empty(); }},
    {"account-acl", check_account_acl,
     [](const JobFacts& f) { return f.acl != nullptr || f.account_unknown; }},
    {"residency", check_residency, [](const JobFacts& f) { return !f.residency.empty(); }},
    {"job-features", check_job_features,
     [](const JobFacts& f) { return !f.job->features.empty(); }},
    {"policy-requirements", check_policy_requirements,
     [](const JobFacts& f) {
         return any_effect(f, [](const Effects& e) {
             return !e.require_features.empty() || !e.require_gpu_types.empty();
         });
     }},
    {"partition", check_partition, [](const JobFacts& f) { return !f.job->partition.empty(); }},
    {"capacity-nodes", check_nodes, nullptr},
    {"capacity-cores", check_cores, nullptr},
    {"capacity-memory", check_memory, nullptr},
    {"capacity-gpus", check_gpus, [](const JobFacts& f) { return f.job->gpus > 0; }},
    {"max-stage-in", check_max_stage_in,
     [](const JobFacts& f) {
         return any_effect(f, [](const Effects& e) { return e.max_stage_in_s.has_value(); });
     }},
};

}  // namespace

double estimate_wait_s(std::uint64_t cores, unsigned gpus, const Site& site, const SiteLoad* load) {
    if (!load) return site.static_wait_s.value_or(0.0);
    auto one = [](double need, double total, double free, double pending_s, double mean_left) {
        if (!(total > 0)) return 0.0;
        free = std::clamp(free, 0.0, total);
        const double backlog = pending_s / total;
        double drain = 0;
        if (need > free) {
            const double busy = total - free;
            drain = busy > 0 ? mean_left * std::min(1.0, (need - free) / busy) : 0.0;
        }
        return backlog + drain;
    };
    const double ctotal = load->cores_total ? load->cores_total : site.capacity.cores;
    const double cbusy = std::max(0.0, ctotal - std::min<double>(load->cores_free, ctotal));
    const double mean_left = cbusy > 0 ? load->running_core_seconds_left / cbusy : 0.0;
    double wait = one(cores, ctotal, load->cores_free, load->pending_core_seconds, mean_left);
    if (gpus > 0) {
        const double gtotal = load->gpus_total ? load->gpus_total : site.capacity.total_gpus();
        // The collector has no per-GPU remaining time; GPU jobs end with the cores they hold,
        // so the cores' mean remaining time stands in for them.
        wait = std::max(wait,
                        one(gpus, gtotal, load->gpus_free, load->pending_gpu_seconds, mean_left));
    }
    // The figures above are built from time limits; jobs at this site use only part of theirs.
    if (load->runtime_ratio > 0 && load->runtime_ratio < 1) wait *= load->runtime_ratio;
    return wait;
}

double stage_in_estimate_s(std::uint64_t bytes, const LinkEstimate* link, double bandwidth_bps,
                           double latency_s) {
    if (!link || link->queued_transfers == 0) return transfer_s(bytes, bandwidth_bps, latency_s);
    return shared_transfer_s(static_cast<double>(bytes), bandwidth_bps, latency_s,
                             link->queued_bytes, link->queued_transfers);
}

std::string origin(const Policy& p, const EffectSource& s) {
    if (s.rule) return fmt::format("policy '{}' rule '{}'", p.name, s.rule->name);
    return fmt::format("policy '{}'", p.name);
}

// ---- step 1: the policy ----

const Policy& choose_policy(const JobRequest& job, const PolicySet& set,
                            std::vector<std::string>& warnings) {
    // The one the job asks for when users may choose it, else the default.
    if (job.hints.policy && !job.hints.policy->empty()) {
        if (set.user_selectable(*job.hints.policy)) {
            if (const Policy* p = set.find(*job.hints.policy)) return *p;
        } else {
            warnings.push_back(fmt::format("policy '{}' {}; using '{}'", *job.hints.policy,
                                           set.find(*job.hints.policy)
                                               ? "is not open to users (user_selectable)"
                                               : "does not exist",
                                           set.default_name()));
        }
    }
    if (set.policies().empty()) {
        // A default-constructed set: decide under the presets rather than throw on a submit path.
        static const PolicySet presets = PolicySet::builtin();
        warnings.push_back("empty policy set: using the built-in '" + presets.default_name() +
                           "' preset");
        return presets.default_policy();
    }
    return set.default_policy();
}

// ---- step 2: effects and weights in force ----

bool rule_matches(const Match& m, const JobRequest& job, std::uint64_t input_bytes) {
    using K = MatchField::Kind;
    for (const auto& f : match_fields) {
        switch (f.kind) {
            case K::names:
                if ((m.*f.names).empty()) break;
                // Accounts as Slurm spells them (lower case; the loader lowercased the rule's).
                if (f.names == &Match::accounts
                        ? !contains(m.accounts, slurm_account_name(job.account))
                        : !contains(m.*f.names, job.*f.job_text))
                    return false;
                break;
            case K::min_count:
            case K::max_count:
                if (const auto& bound = m.*f.count) {
                    const std::uint64_t v = f.job_count(job);
                    if (f.kind == K::min_count ? v < *bound : v > *bound) return false;
                }
                break;
            case K::min_size:
            case K::max_size:
                if (const auto& bound = m.*f.size) {
                    if (f.kind == K::min_size ? input_bytes < *bound : input_bytes > *bound)
                        return false;
                }
                break;
        }
    }
    return true;
}

std::vector<EffectSource> active_effects(const Policy& policy, const JobRequest& job) {
    // Saturating: 16 EiB and more is "at least 16 EiB", never a small number after wrapping.
    const std::uint64_t input_bytes =
        checked::sat_sum(job.inputs, [](const Dataset& ds) { return ds.bytes; });
    // The policy's own, then every matching rule in order.
    std::vector<EffectSource> active;
    active.reserve(1 + policy.rules.size());
    active.push_back({&policy.effects, nullptr});
    for (const auto& r : policy.rules)
        if (rule_matches(r.match, job, input_bytes) &&
            !(r.unless && rule_matches(*r.unless, job, input_bytes)))
            active.push_back({&r.effects, &r});
    return active;
}

Weights effective_weights(const Policy& policy, std::span<const EffectSource> active,
                          const JobRequest& job, std::vector<std::string>& warnings) {
    // The policy's, then the job's overrides it allows, then matching rules (admins win).
    Weights w = policy.weights;
    for (const auto& [k, v] : job.hints.weights) {
        double* f = weight_field(w, k);
        if (!f)
            warnings.push_back(
                fmt::format("unknown weight '{}' ignored (weights: {})", k, weight_list()));
        else if (!contains(policy.user_weights, k))
            warnings.push_back(fmt::format("policy '{}' does not let jobs set weight '{}'; ignored",
                                           policy.name, k));
        else if (!(v >= 0) || !std::isfinite(v))
            warnings.push_back(fmt::format("weight '{}' must be a finite number >= 0; ignored", k));
        else
            *f = v;
    }
    for (std::size_t a = 1; a < active.size(); ++a)
        for (const auto& [k, v] : active[a].effects->weights) *weight_field(w, k) = v;
    return w;
}

namespace {
// SiteMark bits of every site for this job: each list is resolved through the inputs' site index,
// so the cost is the lists' length, not sites x lists.
std::vector<std::uint8_t> site_marks(const JobRequest& job, const PlacementInputs& in,
                                     std::span<const EffectSource> active) {
    const std::size_t n = in.federation.sites.size();
    std::vector<std::uint8_t> marks(n, 0);
    const auto mark = [&](std::string_view name, std::uint8_t bit) {
        if (const int i = in.site_index(name); i >= 0) marks[static_cast<std::size_t>(i)] |= bit;
    };
    for (const auto& s : job.hints.allowed) mark(s, kNamed | kJobAllowed);
    for (const auto& s : job.hints.preferred) mark(s, kNamed | kPreferred);
    for (const auto& s : job.hints.avoided) mark(s, kAvoided);
    constexpr std::uint8_t kListed = 128;  // scratch: in this effect's allow list
    for (const auto& src : active) {
        const Effects& fx = *src.effects;
        for (const auto& s : fx.deny) mark(s, kPolicySites);
        if (!fx.allow.empty()) {
            for (const auto& s : fx.allow) mark(s, kListed);
            for (auto& m : marks)
                m = static_cast<std::uint8_t>((m & kListed) ? m & ~kListed : m | kPolicySites);
        }
        for (const auto& p : fx.penalty_s) mark(p.first, kAdjusted);
        for (const auto& b : fx.bonus_s) mark(b.first, kAdjusted);
    }
    return marks;
}
}  // namespace

JobFacts job_facts(const JobRequest& job, const PlacementInputs& in,
                   std::vector<std::string>& warnings) {
    const Federation& fed = in.federation;
    JobFacts f;
    f.job = &job;
    f.in = &in;
    f.policy = &choose_policy(job, in.policies, warnings);
    f.active = active_effects(*f.policy, job);
    f.weights = effective_weights(*f.policy, f.active, job, warnings);

    auto site_index = [&](const std::string& name) -> int {
        for (std::size_t i = 0; i < fed.sites.size(); ++i)
            if (fed.sites[i].name == name) return static_cast<int>(i);
        return -1;
    };
    // Where each dataset comes from, grouped by source site (one shared link per source).
    f.groups.reserve(job.inputs.size());
    for (const auto& ds : job.inputs) {
        auto g = std::find_if(f.groups.begin(), f.groups.end(),
                              [&](const SourceGroup& x) { return *x.name == ds.site; });
        if (g != f.groups.end()) {
            g->bytes = checked::sat_add(g->bytes, ds.bytes);
            continue;
        }
        const int s = site_index(ds.site);
        f.groups.push_back({s, &ds.site, ds.bytes, &ds, {}});
        if (s < 0) {
            warnings.push_back(fmt::format(
                "dataset '{}' is at '{}', which is not a site of federation '{}': "
                "default link figures ({}, {}) used",
                ds.name, ds.site, fed.name, units::format_rate(fed.default_bandwidth_bps),
                units::format_duration(fed.default_latency_s)));
        }
    }
    // Copies already elsewhere (replica locations): the bytes of each group a site reads locally.
    if (!in.replicas.empty()) {
        for (const auto& ds : job.inputs) {
            const auto r = in.replicas.find(ds.name);
            if (r == in.replicas.end() || ds.bytes == 0) continue;
            auto g = std::find_if(f.groups.begin(), f.groups.end(),
                                  [&](const SourceGroup& x) { return *x.name == ds.site; });
            for (const std::uint32_t s : r->second) {
                if (static_cast<int>(s) == g->site || s >= fed.sites.size()) continue;
                auto l = std::find_if(g->local.begin(), g->local.end(),
                                      [&](const auto& x) { return x.first == s; });
                if (l == g->local.end())
                    g->local.emplace_back(s, ds.bytes);
                else
                    l->second = checked::sat_add(l->second, ds.bytes);
            }
        }
    }
    // Residency: sites allowed to read each tagged dataset. Undefined tags keep the data home.
    for (const auto& ds : job.inputs) {
        if (!ds.residency) continue;
        const auto* allowed = in.policies.residency(*ds.residency);
        if (!allowed) {
            warnings.push_back(fmt::format(
                "dataset '{}' has residency tag '{}', which the policy file does not define: "
                "only its own site '{}' may read it",
                ds.name, *ds.residency, ds.site));
        }
        f.residency.push_back({&ds, allowed});
    }
    f.home = job.home_site ? *job.home_site : fed.local_site;
    f.home_idx = job.output_bytes > 0 && !f.home.empty() ? site_index(f.home) : -1;
    if (job.output_bytes > 0 && f.home.empty()) {
        warnings.push_back(
            "the job has output but no home site and the federation no local_site: stage-out not "
            "counted");
    } else if (job.output_bytes > 0 && f.home_idx < 0) {
        warnings.push_back(fmt::format(
            "output home site '{}' is not a site of federation '{}': default link figures used",
            f.home, fed.name));
    }
    // Accounts as Slurm has them (lower case). No account at all: the door could not tell which
    // one Slurm will charge, so the job gets only what every ACL permits.
    f.acl = job.account.empty() ? nullptr : in.policies.account(job.account);
    if (job.account.empty() && !in.policies.accounts().empty()) {
        f.account_unknown = true;
        warnings.push_back(
            "the job names no account: only sites that every account in the policy's `accounts:` "
            "may use are open to it (give the account: -A in Slurm, `account:` in a job file)");
    }
    // Admin constraints bind whatever policy the job selected: the default policy's hard
    // constraints (enforce mode) of itself and of its rules that match the job.
    if (!in.policies.policies().empty()) {
        const Policy& def = in.policies.default_policy();
        if (&def != f.policy) {
            for (const auto& src : active_effects(def, job)) {
                const Effects& fx = *src.effects;
                if (fx.mode != Mode::enforce) continue;
                if (fx.deny.empty() && fx.allow.empty() && fx.require_features.empty() &&
                    fx.require_gpu_types.empty() && !fx.max_stage_in_s && !fx.min_bandwidth_bps)
                    continue;
                f.admin_active.push_back(src);
            }
            if (!f.admin_active.empty()) f.admin = &def;
        }
    }
    for (const auto& src : f.active) {
        if (const auto& mb = src.effects->min_bandwidth_bps)
            f.min_bandwidth_bps = std::max(f.min_bandwidth_bps, *mb);
        if (const auto& ms = src.effects->max_stage_in_s)
            f.max_stage_in_s = std::min(f.max_stage_in_s, *ms);
    }
    f.run_ref_s = job.runtime_s ? *job.runtime_s : job.walltime_s;
    f.run_basis = !job.runtime_s                ? "requested time (walltime)"
                  : !job.runtime_source.empty() ? job.runtime_source
                                                : "the job's runtime estimate";
    // No runtime of its own: what the job's account's recent jobs at this host's site used of
    // their limits (the collector's accounting history), when it has enough of them.
    if (!job.runtime_s && !job.account.empty()) {
        const int here = in.site_index(fed.local_site);
        if (const SiteLoad* l = here >= 0 ? in.load(static_cast<std::size_t>(here)) : nullptr) {
            const std::string acct = slurm_account_name(job.account);
            const auto r = l->runtime_ratio_by_account.find(acct);
            if (r != l->runtime_ratio_by_account.end() && r->second > 0 && r->second < 1) {
                f.run_ref_s = job.walltime_s * r->second;
                f.run_basis = fmt::format(
                    "requested time x {:.2f} (account '{}': actual over requested time of its "
                    "recent jobs at {})",
                    r->second, acct, fed.local_site);
            }
        }
    }
    f.cores = job.cores();
    // Waiting for busy links: the last matching rule's word, else the policy's (as with weights).
    for (const auto& src : f.active)
        if (src.effects->wait_for_link_s) f.wait_for_link_s = src.effects->wait_for_link_s;
    f.marks = site_marks(job, in, f.active);
    static_assert(std::size(kChecks) <= 32, "JobFacts::checks is a 32-bit mask");
    f.checks = 0;
    for (std::size_t k = 0; k < std::size(kChecks); ++k)
        if (!kChecks[k].relevant || kChecks[k].relevant(f)) f.checks |= 1u << k;
    return f;
}

// ---- step 3: one site's costs (for every site, so the explanation is complete) ----

void estimate_site(const JobFacts& f, std::size_t i, SiteEstimate& e, SiteCandidate& c,
                   unsigned& unmeasured) {
    const JobRequest& job = *f.job;
    const Federation& fed = f.in->federation;
    const Site& site = fed.sites[i];
    c.index = i;
    c.site = &site;
    const std::uint8_t marks = f.marks[i];
    c.user_named = marks & kNamed;
    if (c.inputs.size() != f.groups.size()) c.inputs.resize(f.groups.size());
    std::fill(c.inputs.begin(), c.inputs.end(), std::nullopt);
    c.output.reset();
    c.estimate = &e;
    e.site = site.name;

    const SiteLoad* load = f.in->load(i);
    e.wait_s = estimate_wait_s(f.cores, job.gpus, site, load);
    if (!load) {
        e.notes.push_back(site.static_wait_s
                              ? fmt::format("no site state: static wait {}",
                                            units::format_duration(*site.static_wait_s))
                              : std::string("no site state and no static_wait: wait assumed 0"));
    }

    double stage_in = 0;
    double drain = 0;  // until the busiest link this stage-in would join has carried its queue
    double alone = 0;  // the stage-in with its links idle
    for (std::size_t k = 0; k < f.groups.size(); ++k) {
        const SourceGroup& g = f.groups[k];
        if (g.site == static_cast<int>(i)) continue;
        std::uint64_t bytes = g.bytes;
        for (const auto& [s, b] : g.local)
            if (s == i) bytes -= std::min(bytes, b);
        if (bytes == 0 && g.bytes > 0) {
            e.notes.push_back(fmt::format("data from {} read from a copy here", *g.name));
            continue;
        }
        // Built in its slot: the check step reads it from there.
        LinkUse& l = c.inputs[k].emplace(link_figures(fed, f.in->links, g.site, i));
        // A busy link is shared with the transfers already on it (processor sharing).
        l.seconds = link_seconds(l, bytes);
        if (!g.local.empty()) {
            nearest_copy(fed, f.in->links, g, i, bytes, l);
            if (l.from >= 0) {
                const std::string& from = source_name(fed, g, l);
                e.notes.push_back(fmt::format("data from {} staged in from the copy at {} ({})",
                                              *g.name, from, units::format_duration(l.seconds)));
                e.stage_in_sources.emplace_back(*g.name, from);
            }
        }
        e.wan_bytes = checked::sat_add(e.wan_bytes, bytes);
        if (l.known) {
            if (!l.measured) ++unmeasured;
            if (l.health != LinkHealth::down)
                if (const char* h = health_word(l.health))
                    e.notes.push_back(
                        fmt::format("link {}->{} is {}", source_name(fed, g, l), site.name, h));
        } else if (l.from >= 0 || g.site >= 0) {
            e.notes.push_back(fmt::format("no figures for link {}->{}: federation defaults",
                                          source_name(fed, g, l), site.name));
        }
        if (bytes > 0) {  // a number, not a note: cheap on the submit path
            e.link_transfers = std::max(e.link_transfers, l.queued_transfers);
            if (f.wait_for_link_s) {
                if (l.queued_transfers > 0)
                    drain = std::max(drain, l.queued_bytes * 8.0 / l.bandwidth_bps);
                alone = std::max(alone, transfer_s(bytes, l.bandwidth_bps, l.latency_s));
            }
        }
        stage_in = std::max(stage_in, l.seconds);
    }
    e.stage_in_s = stage_in;
    // Waiting for the link (policy wait_for_link): a site over the stage-in limit only because its
    // links are busy keeps the job, which waits for them to clear and then stages in alone.
    // Sharing now never finishes later than waiting (drain + alone >= the shared estimate), so
    // this is only taken where the shared stage-in would exclude the site.
    if (f.wait_for_link_s && stage_in > f.max_stage_in_s && drain > 0 &&
        drain <= *f.wait_for_link_s && alone <= f.max_stage_in_s) {
        e.link_wait_s = drain;
        e.stage_in_s = drain + alone;
        e.notes.push_back(fmt::format(
            "waits {} for its busy link to clear, then stages in alone in {} (sharing now: {}, "
            "over the {} limit)",
            units::format_duration(drain), units::format_duration(alone),
            units::format_duration(stage_in), units::format_duration(f.max_stage_in_s)));
    }
    e.run_s = f.run_ref_s * site.speed;
    e.stage_out_s = 0;
    if (job.output_bytes > 0 && !f.home.empty() && f.home_idx != static_cast<int>(i)) {
        LinkUse use = f.home_idx >= 0 ? link_figures(fed, f.in->links, static_cast<int>(i),
                                                     static_cast<std::size_t>(f.home_idx))
                                      : LinkUse{fed.default_bandwidth_bps, fed.default_latency_s};
        use.seconds = transfer_s(job.output_bytes, use.bandwidth_bps, use.latency_s);
        e.stage_out_s = use.seconds;
        e.wan_bytes = checked::sat_add(e.wan_bytes, job.output_bytes);
        if (is_down(use)) {
            e.notes.push_back(
                fmt::format("link {}->{} for the output is down now; stage-out assumes it recovers",
                            site.name, f.home));
        }
        c.output = use;
    }
    e.total_s = e.wait_s + e.stage_in_s + e.run_s + e.stage_out_s;
    e.price = f.run_ref_s * site.speed / 3600.0 *
              (f.cores * site.price.core_hour + job.gpus * site.price.gpu_hour);

    double adjust = 0;
    for (const auto& src : marks& kAdjusted ? std::span<const EffectSource>(f.active)
                                            : std::span<const EffectSource>()) {
        if (const double* p = find_pair(src.effects->penalty_s, site.name)) {
            adjust += *p;
            e.notes.push_back(fmt::format("penalty +{} ({})", units::format_duration(*p),
                                          origin(*f.policy, src)));
        }
        if (const double* b = find_pair(src.effects->bonus_s, site.name)) {
            adjust -= *b;
            e.notes.push_back(
                fmt::format("bonus -{} ({})", units::format_duration(*b), origin(*f.policy, src)));
        }
    }
    if ((marks & kPreferred) && f.policy->preferred_bonus_s > 0) {
        adjust -= f.policy->preferred_bonus_s;
        e.notes.push_back(fmt::format("preferred by the job: -{}",
                                      units::format_duration(f.policy->preferred_bonus_s)));
    }
    const Weights& w = f.weights;
    const double moving = e.stage_in_s + e.stage_out_s;
    e.terms.completion = w.completion * e.total_s;
    e.terms.transfer = w.transfer * moving;
    e.terms.price = w.price * e.price;
    e.terms.wan = w.wan_gb * static_cast<double>(e.wan_bytes) / 1e9;
    e.terms.adjust = adjust;
    e.score = e.terms.completion + e.terms.transfer + e.terms.price + e.terms.wan + e.terms.adjust;
    if (std::isnan(e.score)) e.score = inf;  // 0 x inf: keeps the ranking's ordering strict
}

// ---- step 4: the checks ----

std::span<const SiteCheck> site_checks() { return kChecks; }

namespace {
// kChecks is constexpr, so kChecks[I].check is a known function the compiler inlines here: the
// per-site loop (sites x checks calls per decision) makes no indirect calls.
template <std::size_t... I>
void run_checks(const JobFacts& f, SiteCandidate& c, std::index_sequence<I...>) {
    const auto one = [&](auto check) {
        if (auto why = check(f, c, c.estimate->notes))
            add_reason(c.estimate->excluded, std::move(*why));
    };
    ((f.checks & (1u << I) ? one(kChecks[I].check) : void()), ...);
}
}  // namespace

void apply_checks(const JobFacts& f, SiteCandidate& c) {
    run_checks(f, c, std::make_index_sequence<std::size(kChecks)>{});
}

// ---- step 5: the ranking ----

void rank(PlacementDecision& d, const Federation& fed) {
    // Eligible first by (score, total, name); excluded after in federation order. The index as
    // the last key makes the order total, so an unstable sort gives the stable result without
    // stable_sort's buffer.
    // The keys sit together (24 bytes a site) rather than in the estimates (~250 bytes apart):
    // the sort's comparisons stay in cache.
    struct Key {
        double score;
        double total;
        unsigned index;
        bool excluded;
    };
    const std::size_t n = d.ranking.size();
    std::vector<Key> keys(n);
    for (std::size_t i = 0; i < n; ++i) {
        const SiteEstimate& e = d.ranking[i];
        keys[i] = {e.score, e.total_s, static_cast<unsigned>(i), e.excluded.has_value()};
    }
    std::sort(keys.begin(), keys.end(), [&](const Key& x, const Key& y) {
        if (x.excluded != y.excluded) return !x.excluded;
        if (!x.excluded) {
            if (x.score != y.score) return x.score < y.score;
            if (x.total != y.total) return x.total < y.total;
            const std::string& a = d.ranking[x.index].site;
            const std::string& b = d.ranking[y.index].site;
            if (a != b) return a < b;
        }
        return x.index < y.index;
    });
    std::vector<SiteEstimate> ranked;
    ranked.reserve(n);
    for (const Key& k : keys) ranked.push_back(std::move(d.ranking[k.index]));
    d.ranking = std::move(ranked);
    d.site.reset();
    d.cluster.clear();
    if (!d.ranking.empty() && !d.ranking.front().excluded) {
        d.site = d.ranking.front().site;
        const Site* s = fed.find(*d.site);
        d.cluster = s && !s->cluster.empty() ? s->cluster : *d.site;
    }
}

PlacementDecision place(const JobRequest& job, const PlacementInputs& in) {
    PlacementDecision d;
    const Federation& fed = in.federation;
    const JobFacts facts = job_facts(job, in, d.warnings);
    d.policy = facts.policy->name;
    d.run_basis = facts.run_basis;
    d.ranking.resize(fed.sites.size());
    unsigned unmeasured = 0;
    SiteCandidate c;
    for (std::size_t i = 0; i < fed.sites.size(); ++i) {
        estimate_site(facts, i, d.ranking[i], c, unmeasured);
        apply_checks(facts, c);
    }
    d.state_warnings = in.state_warnings;
    if (unmeasured > 0) {
        d.state_warnings.push_back(
            "some links have no measurement yet: static figures from the federation file used");
    }
    rank(d, fed);
    return d;
}

}  // namespace netplace::policies
