#include "netplace/policies/engine.hpp"

#include "netplace/core/units.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <string_view>
#include <unordered_map>

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

// Who imposed an effect, for messages: "policy 'x'" or "policy 'x' rule 'y'".
struct Source {
    const Effects* effects;
    const Rule* rule;  // nullptr: the policy itself
};

std::string origin(const Policy& p, const Source& s) {
    if (s.rule) return fmt::format("policy '{}' rule '{}'", p.name, s.rule->name);
    return fmt::format("policy '{}'", p.name);
}

bool matches(const Match& m, const JobRequest& job, std::uint64_t input_bytes) {
    if (!m.accounts.empty() && !contains(m.accounts, job.account)) return false;
    if (!m.users.empty() && !contains(m.users, job.user)) return false;
    if (!m.groups.empty() && !contains(m.groups, job.group)) return false;
    if (!m.partitions.empty() && !contains(m.partitions, job.partition)) return false;
    const unsigned cores = job.cores();
    if (m.min_cores && cores < *m.min_cores) return false;
    if (m.max_cores && cores > *m.max_cores) return false;
    if (m.min_gpus && job.gpus < *m.min_gpus) return false;
    if (m.max_gpus && job.gpus > *m.max_gpus) return false;
    if (m.min_nodes && job.nodes < *m.min_nodes) return false;
    if (m.max_nodes && job.nodes > *m.max_nodes) return false;
    if (m.min_input_bytes && input_bytes < *m.min_input_bytes) return false;
    if (m.max_input_bytes && input_bytes > *m.max_input_bytes) return false;
    return true;
}

// Bytes that leave one source site for the candidate: datasets at the same site share its link.
struct SourceGroup {
    int site = -1;  // index into fed.sites; -1: not a federation site
    const std::string* name = nullptr;
    std::uint64_t bytes = 0;
    const Dataset* first = nullptr;
};

void add_reason(std::optional<std::string>& excluded, std::string reason) {
    if (!excluded)
        excluded = std::move(reason);
    else
        excluded->append("; ").append(reason);
}

// O(1) lookup of link i -> j when `links` is row-major over fed.sites, either with the diagonal
// (n * n entries) or without it (n * (n - 1), what current_links() returns); any other order
// gets an index built on first use. Every hit is verified by name, so a wrong guess only costs
// time.
class LinkIndex {
  public:
    LinkIndex(const Federation& fed, const std::vector<LinkEstimate>& links)
        : fed_(fed), links_(links), n_(fed.sites.size()) {
        if (n_ > 0 && links.size() == n_ * n_)
            layout_ = Layout::square;
        else if (n_ > 1 && links.size() == n_ * (n_ - 1))
            layout_ = Layout::off_diagonal;
    }

    const LinkEstimate* get(size_t from, size_t to) const {
        if (links_.empty()) return nullptr;
        if (layout_ != Layout::other && (layout_ == Layout::square || from != to)) {
            const size_t k = layout_ == Layout::square
                                 ? from * n_ + to
                                 : from * (n_ - 1) + (to < from ? to : to - 1);
            const LinkEstimate& l = links_[k];
            if (l.from == fed_.sites[from].name && l.to == fed_.sites[to].name) return &l;
        }
        if (index_.empty()) build();
        const int k = index_[from * n_ + to];
        return k < 0 ? nullptr : &links_[static_cast<size_t>(k)];
    }

  private:
    enum class Layout { square, off_diagonal, other };

    void build() const {
        std::unordered_map<std::string_view, size_t> pos;
        pos.reserve(n_ * 2);
        for (size_t i = 0; i < n_; ++i) pos.emplace(fed_.sites[i].name, i);
        index_.assign(n_ * n_, -1);
        for (size_t k = 0; k < links_.size(); ++k) {
            auto f = pos.find(links_[k].from);
            auto t = pos.find(links_[k].to);
            if (f != pos.end() && t != pos.end())
                index_[f->second * n_ + t->second] = static_cast<int>(k);
        }
    }

    const Federation& fed_;
    const std::vector<LinkEstimate>& links_;
    size_t n_;
    Layout layout_ = Layout::other;
    mutable std::vector<int> index_;  // built lazily, only for out-of-order input
};

// One directed transfer's figures, from the estimate or the federation's defaults.
struct LinkUse {
    double bandwidth_bps;
    double latency_s;
    const LinkEstimate* estimate;
};

LinkUse link_figures(const Federation& fed, const LinkIndex& links, int from, size_t to) {
    if (from >= 0) {
        if (const LinkEstimate* l = links.get(static_cast<size_t>(from), to))
            return {l->bandwidth_bps, l->latency_s, l};
    }
    return {fed.default_bandwidth_bps, fed.default_latency_s, nullptr};
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

}  // namespace

double transfer_s(std::uint64_t bytes, double bandwidth_bps, double latency_s) {
    if (bytes == 0) return 0;
    if (!(bandwidth_bps > 0)) return inf;
    return latency_s + static_cast<double>(bytes) * 8.0 / bandwidth_bps;
}

double estimate_wait_s(unsigned cores, unsigned gpus, const Site& site, const SiteLoad* load) {
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
    return wait;
}

PlacementDecision place(const JobRequest& job, const Federation& fed,
                        const std::vector<LinkEstimate>& links, const std::vector<SiteLoad>& loads,
                        const PolicySet& policies) {
    PlacementDecision d;
    const size_t n = fed.sites.size();

    // The policy: the one the job asks for when users may choose it, else the default.
    const Policy* policy = nullptr;
    if (job.hints.policy && !job.hints.policy->empty()) {
        if (policies.user_selectable(*job.hints.policy)) {
            policy = policies.find(*job.hints.policy);
        } else {
            d.warnings.push_back(fmt::format("policy '{}' {}; using '{}'", *job.hints.policy,
                                             policies.find(*job.hints.policy)
                                                 ? "is not open to users (user_selectable)"
                                                 : "does not exist",
                                             policies.default_name()));
        }
    }
    if (!policy) {
        if (policies.policies().empty()) {
            // A default-constructed set: decide under the presets rather than throw on a submit
            // path.
            static const PolicySet presets = PolicySet::builtin();
            d.warnings.push_back("empty policy set: using the built-in '" + presets.default_name() +
                                 "' preset");
            policy = &presets.default_policy();
        } else {
            policy = &policies.default_policy();
        }
    }
    d.policy = policy->name;

    std::uint64_t input_bytes = 0;
    for (const auto& ds : job.inputs) input_bytes += ds.bytes;

    // Effects in force: the policy's own, then every matching rule in order.
    std::vector<Source> active;
    active.reserve(1 + policy->rules.size());
    active.push_back({&policy->effects, nullptr});
    for (const auto& r : policy->rules)
        if (matches(r.match, job, input_bytes) &&
            !(r.unless && matches(*r.unless, job, input_bytes)))
            active.push_back({&r.effects, &r});

    // Weights: the policy's, then the job's overrides it allows, then matching rules (admins win).
    Weights w = policy->weights;
    for (const auto& [k, v] : job.hints.weights) {
        double* f = weight_field(w, k);
        if (!f)
            d.warnings.push_back(fmt::format(
                "unknown weight '{}' ignored (weights: completion, transfer, price, wan_gb)", k));
        else if (!contains(policy->user_weights, k))
            d.warnings.push_back(fmt::format(
                "policy '{}' does not let jobs set weight '{}'; ignored", policy->name, k));
        else if (!(v >= 0) || !std::isfinite(v))
            d.warnings.push_back(
                fmt::format("weight '{}' must be a finite number >= 0; ignored", k));
        else
            *f = v;
    }
    for (size_t a = 1; a < active.size(); ++a)
        for (const auto& [k, v] : active[a].effects->weights) *weight_field(w, k) = v;

    // Where each dataset comes from, grouped by source site (one shared link per source).
    auto site_index = [&](const std::string& name) -> int {
        for (size_t i = 0; i < n; ++i)
            if (fed.sites[i].name == name) return static_cast<int>(i);
        return -1;
    };
    std::vector<SourceGroup> groups;
    groups.reserve(job.inputs.size());
    for (const auto& ds : job.inputs) {
        const int s = site_index(ds.site);
        auto g = std::find_if(groups.begin(), groups.end(),
                              [&](const SourceGroup& x) { return *x.name == ds.site; });
        if (g == groups.end()) {
            groups.push_back({s, &ds.site, ds.bytes, &ds});
            if (s < 0) {
                d.warnings.push_back(fmt::format(
                    "dataset '{}' is at '{}', which is not a site of federation '{}': "
                    "default link figures ({}, {}) used",
                    ds.name, ds.site, fed.name, units::format_rate(fed.default_bandwidth_bps),
                    units::format_duration(fed.default_latency_s)));
            }
        } else {
            g->bytes += ds.bytes;
        }
    }
    // Residency: sites allowed to read each tagged dataset. Undefined tags keep the data home.
    struct Residency {
        const Dataset* ds;
        const std::vector<std::string>* sites;
    };
    std::vector<Residency> residency;
    for (const auto& ds : job.inputs) {
        if (!ds.residency) continue;
        const auto* allowed = policies.residency(*ds.residency);
        if (!allowed) {
            d.warnings.push_back(fmt::format(
                "dataset '{}' has residency tag '{}', which the policy file does not define: "
                "only its own site '{}' may read it",
                ds.name, *ds.residency, ds.site));
        }
        residency.push_back({&ds, allowed});
    }
    const std::string& home = job.home_site ? *job.home_site : fed.local_site;
    const int home_idx = job.output_bytes > 0 && !home.empty() ? site_index(home) : -1;
    if (job.output_bytes > 0 && home.empty()) {
        d.warnings.push_back(
            "the job has output but no home site and the federation no local_site: stage-out not "
            "counted");
    } else if (job.output_bytes > 0 && home_idx < 0) {
        d.warnings.push_back(fmt::format(
            "output home site '{}' is not a site of federation '{}': default link figures used",
            home, fed.name));
    }
    const AccountAcl* acl = job.account.empty() ? nullptr : policies.account(job.account);

    const LinkIndex link_index(fed, links);
    const bool loads_aligned = [&] {
        if (loads.size() != n) return false;
        for (size_t i = 0; i < n; ++i)
            if (loads[i].site != fed.sites[i].name) return false;
        return true;
    }();
    // Out-of-order or partial loads: one hash pass instead of a scan per site.
    std::vector<const SiteLoad*> by_site;
    if (!loads_aligned && !loads.empty()) {
        std::unordered_map<std::string_view, const SiteLoad*> pos;
        pos.reserve(loads.size() * 2);
        for (const auto& l : loads) pos.emplace(l.site, &l);
        by_site.resize(n, nullptr);
        for (size_t i = 0; i < n; ++i) {
            auto it = pos.find(fed.sites[i].name);
            if (it != pos.end()) by_site[i] = it->second;
        }
    }
    auto load_for = [&](size_t i) -> const SiteLoad* {
        if (loads_aligned) return &loads[i];
        return by_site.empty() ? nullptr : by_site[i];
    };

    const double run_ref_s = job.runtime_s ? *job.runtime_s : job.walltime_s;
    const unsigned cores = job.cores();
    unsigned unmeasured_links = 0;
    d.ranking.resize(n);

    for (size_t i = 0; i < n; ++i) {
        const Site& site = fed.sites[i];
        SiteEstimate& e = d.ranking[i];
        e.site = site.name;
        const bool user_named =
            contains(job.hints.allowed, site.name) || contains(job.hints.preferred, site.name);

        // ---- costs (computed for every site so the explanation is complete) ----
        const SiteLoad* load = load_for(i);
        e.wait_s = estimate_wait_s(cores, job.gpus, site, load);
        if (!load) {
            e.notes.push_back(
                site.static_wait_s
                    ? fmt::format("no site state: static wait {}",
                                  units::format_duration(*site.static_wait_s))
                    : std::string("no site state and no static_wait: wait assumed 0"));
        }

        double stage_in = 0;
        for (const auto& g : groups) {
            if (g.site == static_cast<int>(i)) continue;
            const LinkUse l = link_figures(fed, link_index, g.site, i);
            e.wan_bytes += g.bytes;
            if (l.estimate) {
                if (!l.estimate->measured) ++unmeasured_links;
                if (l.estimate->health == LinkHealth::down) {
                    add_reason(e.excluded, fmt::format("link {}->{} is down (dataset '{}')",
                                                       *g.name, site.name, g.first->name));
                } else if (const char* h = health_word(l.estimate->health)) {
                    e.notes.push_back(fmt::format("link {}->{} is {}", *g.name, site.name, h));
                }
            } else if (g.site >= 0) {
                e.notes.push_back(fmt::format("no figures for link {}->{}: federation defaults",
                                              *g.name, site.name));
            }
            const double t = transfer_s(g.bytes, l.bandwidth_bps, l.latency_s);
            if (!std::isfinite(t) && !(l.estimate && l.estimate->health == LinkHealth::down)) {
                add_reason(e.excluded, fmt::format("link {}->{} has no bandwidth (dataset '{}')",
                                                   *g.name, site.name, g.first->name));
            }
            for (const auto& src : active) {
                const auto& mb = src.effects->min_bandwidth_bps;
                if (mb && g.bytes > 0 && l.bandwidth_bps < *mb) {
                    add_reason(
                        e.excluded,
                        fmt::format("link {}->{} at {} is below the minimum bandwidth {} set by {}",
                                    *g.name, site.name, units::format_rate(l.bandwidth_bps),
                                    units::format_rate(*mb), origin(*policy, src)));
                }
            }
            stage_in = std::max(stage_in, t);
        }
        e.stage_in_s = stage_in;
        e.run_s = run_ref_s * site.speed;
        e.stage_out_s = 0;
        if (job.output_bytes > 0 && !home.empty() && home_idx != static_cast<int>(i)) {
            const LinkUse use =
                home_idx >= 0 ? link_figures(fed, link_index, static_cast<int>(i),
                                             static_cast<size_t>(home_idx))
                              : LinkUse{fed.default_bandwidth_bps, fed.default_latency_s, nullptr};
            e.stage_out_s = transfer_s(job.output_bytes, use.bandwidth_bps, use.latency_s);
            e.wan_bytes += job.output_bytes;
            if (!std::isfinite(e.stage_out_s)) {
                add_reason(e.excluded, fmt::format("link {}->{} has no bandwidth for the output",
                                                   site.name, home));
            }
            if (use.estimate && use.estimate->health == LinkHealth::down) {
                e.notes.push_back(fmt::format(
                    "link {}->{} for the output is down now; stage-out assumes it recovers",
                    site.name, home));
            }
        }
        e.total_s = e.wait_s + e.stage_in_s + e.run_s + e.stage_out_s;
        e.price = run_ref_s * site.speed / 3600.0 *
                  (cores * site.price.core_hour + job.gpus * site.price.gpu_hour);

        double adjust = 0;
        for (const auto& src : active) {
            if (const double* p = find_pair(src.effects->penalty_s, site.name)) {
                adjust += *p;
                e.notes.push_back(fmt::format("penalty +{} ({})", units::format_duration(*p),
                                              origin(*policy, src)));
            }
            if (const double* b = find_pair(src.effects->bonus_s, site.name)) {
                adjust -= *b;
                e.notes.push_back(fmt::format("bonus -{} ({})", units::format_duration(*b),
                                              origin(*policy, src)));
            }
        }
        if (contains(job.hints.preferred, site.name) && policy->preferred_bonus_s > 0) {
            adjust -= policy->preferred_bonus_s;
            e.notes.push_back(fmt::format("preferred by the job: -{}",
                                          units::format_duration(policy->preferred_bonus_s)));
        }
        const double moving = e.stage_in_s + e.stage_out_s;
        e.terms.completion = w.completion * e.total_s;
        e.terms.transfer = w.transfer * moving;
        e.terms.price = w.price * e.price;
        e.terms.wan = w.wan_gb * static_cast<double>(e.wan_bytes) / 1e9;
        e.terms.adjust = adjust;
        e.score =
            e.terms.completion + e.terms.transfer + e.terms.price + e.terms.wan + e.terms.adjust;
        if (std::isnan(e.score)) e.score = inf;  // 0 x inf: keeps the ranking's ordering strict

        // ---- exclusions: the job's own wishes, then admin rules, then what the site can do ----
        if (contains(job.hints.avoided, site.name)) add_reason(e.excluded, "avoided by the job");
        if (!job.hints.allowed.empty() && !contains(job.hints.allowed, site.name)) {
            add_reason(e.excluded, "not among the job's allowed sites");
        }
        for (const auto& src : active) {
            const Effects& fx = *src.effects;
            const bool denied = contains(fx.deny, site.name);
            const bool outside = !fx.allow.empty() && !contains(fx.allow, site.name);
            if (!denied && !outside) continue;
            if (fx.mode == Mode::default_ && user_named) {
                e.notes.push_back(fmt::format("{} {} by default; allowed because the job names it",
                                              origin(*policy, src),
                                              denied ? "denies it" : "leaves it out"));
                continue;
            }
            if (denied)
                add_reason(e.excluded, "denied by " + origin(*policy, src));
            else
                add_reason(e.excluded, "not allowed by " + origin(*policy, src));
        }
        if (acl) {
            if (contains(acl->deny, site.name))
                add_reason(e.excluded,
                           fmt::format("account '{}' may not use this site", job.account));
            else if (!acl->allow.empty() && !contains(acl->allow, site.name)) {
                add_reason(e.excluded,
                           fmt::format("account '{}' is not allowed on this site", job.account));
            }
        }
        for (const auto& r : residency) {
            const bool ok = r.sites ? contains(*r.sites, site.name) : r.ds->site == site.name;
            if (!ok) {
                add_reason(e.excluded,
                           fmt::format("residency: dataset '{}' (tag '{}') may not be read here",
                                       r.ds->name, *r.ds->residency));
            }
        }
        for (const auto& f : job.features) {
            if (!contains(site.features, f))
                add_reason(e.excluded, fmt::format("lacks feature '{}' the job requires", f));
        }
        for (const auto& src : active) {
            for (const auto& f : src.effects->require_features) {
                if (!contains(site.features, f))
                    add_reason(e.excluded, fmt::format("lacks feature '{}' required by {}", f,
                                                       origin(*policy, src)));
            }
            for (const auto& t : src.effects->require_gpu_types) {
                if (!site.capacity.gpus.count(t))
                    add_reason(e.excluded, fmt::format("has no '{}' GPUs, required by {}", t,
                                                       origin(*policy, src)));
            }
        }
        if (!job.partition.empty() && !site.partitions.empty() &&
            !contains(site.partitions, job.partition)) {
            add_reason(e.excluded, fmt::format("has no partition '{}'", job.partition));
        }
        if (job.nodes > site.capacity.nodes && site.capacity.nodes > 0) {
            add_reason(e.excluded, fmt::format("capacity: {} nodes, the job needs {}",
                                               site.capacity.nodes, job.nodes));
        }
        if (cores > site.capacity.cores) {
            add_reason(e.excluded, fmt::format("capacity: {} cores, the job needs {}",
                                               site.capacity.cores, cores));
        }
        if (job.memory_bytes > 0 && site.capacity.memory_bytes > 0 && site.capacity.nodes > 0 &&
            job.memory_bytes > site.capacity.memory_bytes / site.capacity.nodes) {
            add_reason(e.excluded, fmt::format("capacity: {} memory per node, the job needs {}",
                                               units::format_size(site.capacity.memory_bytes /
                                                                  site.capacity.nodes),
                                               units::format_size(job.memory_bytes)));
        }
        if (job.gpus > 0) {
            if (job.gpu_type) {
                auto it = site.capacity.gpus.find(*job.gpu_type);
                const unsigned have = it == site.capacity.gpus.end() ? 0 : it->second;
                if (have < job.gpus) {
                    add_reason(e.excluded, fmt::format("capacity: {} '{}' GPUs, the job needs {}",
                                                       have, *job.gpu_type, job.gpus));
                }
            } else if (site.capacity.total_gpus() < job.gpus) {
                add_reason(e.excluded, fmt::format("capacity: {} GPUs, the job needs {}",
                                                   site.capacity.total_gpus(), job.gpus));
            }
        }
        for (const auto& src : active) {
            const auto& ms = src.effects->max_stage_in_s;
            if (ms && e.stage_in_s > *ms) {
                add_reason(e.excluded,
                           fmt::format("stage-in {} exceeds the {} limit set by {}",
                                       units::format_duration(e.stage_in_s),
                                       units::format_duration(*ms), origin(*policy, src)));
            }
        }
    }
    if (unmeasured_links > 0) {
        d.state_warnings.push_back(
            "some links have no measurement yet: static figures from the federation file used");
    }

    // Eligible first by (score, total, name); excluded after in federation order.
    std::vector<unsigned> order(n);
    std::iota(order.begin(), order.end(), 0u);
    std::stable_sort(order.begin(), order.end(), [&](unsigned a, unsigned b) {
        const SiteEstimate& x = d.ranking[a];
        const SiteEstimate& y = d.ranking[b];
        if (x.excluded.has_value() != y.excluded.has_value()) return !x.excluded.has_value();
        if (x.excluded) return false;
        if (x.score != y.score) return x.score < y.score;
        if (x.total_s != y.total_s) return x.total_s < y.total_s;
        return x.site < y.site;
    });
    std::vector<SiteEstimate> ranked;
    ranked.reserve(n);
    for (unsigned k : order) ranked.push_back(std::move(d.ranking[k]));
    d.ranking = std::move(ranked);
    if (!d.ranking.empty() && !d.ranking.front().excluded) {
        d.site = d.ranking.front().site;
        const Site* s = fed.find(*d.site);
        d.cluster = s && !s->cluster.empty() ? s->cluster : *d.site;
    }
    return d;
}

}  // namespace netplace::policies
