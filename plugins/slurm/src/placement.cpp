#include "netplace/slurm/placement.hpp"

#include "netplace/slurm/accounts.hpp"

#include "netplace/core/checked.hpp"
#include "netplace/core/error.hpp"
#include "netplace/core/units.hpp"
#include "netplace/data/catalog.hpp"
#include "netplace/data/directives.hpp"
#include "netplace/policies/engine.hpp"
#include "netplace/policies/load_inputs.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <nlohmann/json.hpp>

#include <grp.h>
#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <cmath>

namespace netplace::slurm {
namespace {

using json = nlohmann::json;

std::optional<std::string> str(const json& j, const char* key) {
    auto it = j.find(key);
    if (it == j.end() || it->is_null()) return std::nullopt;
    if (it->is_string()) return it->get<std::string>();
    return it->dump();
}

// Leading unsigned of "4", "2-4" (min of a range), "gpu:a100:2" (last field).
std::optional<unsigned> count(std::optional<std::string> s, bool last_field = false) {
    if (!s || s->empty()) return std::nullopt;
    std::string_view t = *s;
    if (last_field) {
        if (auto c = t.rfind(':'); c != std::string_view::npos) t.remove_prefix(c + 1);
    }
    unsigned v = 0;
    auto [p, ec] = std::from_chars(t.data(), t.data() + t.size(), v);
    if (ec != std::errc() || p == t.data()) return std::nullopt;
    return v;
}

std::optional<std::string> gpu_type_of(const std::optional<std::string>& s) {
    if (!s) return std::nullopt;
    auto first = s->find(':');
    if (first == std::string::npos) return std::nullopt;
    auto last = s->rfind(':');
    std::string t = last == first ? s->substr(0, first) : s->substr(first + 1, last - first - 1);
    if (t == "gpu" || t.empty()) return std::nullopt;
    return t;
}

// --mem: megabytes unless suffixed (Slurm's convention).
std::uint64_t mem_bytes(const std::string& v) {
    if (!v.empty() && std::isdigit(static_cast<unsigned char>(v.back())))
        return units::parse_size(v + "M");
    return units::parse_size(v);
}

std::vector<std::string> split_list(const std::string& s) {
    std::vector<std::string> out;
    size_t b = 0;
    while (b <= s.size()) {
        auto e = s.find(',', b);
        if (e == std::string::npos) e = s.size();
        if (e > b) out.push_back(s.substr(b, e - b));
        b = e + 1;
    }
    return out;
}

std::string compact_reason(const PlacementDecision& d) {
    const SiteEstimate* best = d.ranking.empty() ? nullptr : &d.ranking.front();
    if (!best || !d.site) return "no site qualifies";
    std::string r = fmt::format(
        "policy={} total={} wait={} stage_in={}", d.policy, units::format_duration(best->total_s),
        units::format_duration(best->wait_s), units::format_duration(best->stage_in_s));
    if (d.ranking.size() > 1 && !d.ranking[1].excluded)
        r += fmt::format(" next={}(+{})", d.ranking[1].site,
                         units::format_duration(d.ranking[1].score - best->score));
    return r;
}

std::string fig(double s) {
    return std::isfinite(s) ? units::format_duration(s) : std::string("inf");
}

}  // namespace

std::string explain_table(const PlacementDecision& d) {
    std::string out = fmt::format("netplace: policy '{}': {}\n", d.policy,
                                  d.site ? fmt::format("site {} (cluster {})", *d.site, d.cluster)
                                         : std::string("no site qualifies"));
    out += fmt::format("  {:<12} {:>9} {:>9} {:>9} {:>9} {:>9} {:>9}  {}\n", "site", "wait",
                       "stage-in", "run", "stage-out", "total", "score", "excluded / notes");
    for (const auto& e : d.ranking) {
        std::string why = e.excluded ? "EXCLUDED: " + *e.excluded : std::string();
        for (const auto& n : e.notes) why += (why.empty() ? "" : "; ") + n;
        out += fmt::format("  {:<12} {:>9} {:>9} {:>9} {:>9} {:>9} {:>9}  {}\n", e.site,
                           fig(e.wait_s), fig(e.stage_in_s), fig(e.run_s), fig(e.stage_out_s),
                           fig(e.total_s), fig(e.score), why);
    }
    return out;
}

namespace {

JobRequest job_from_options(const json& j, const UserOptions& opts) {
    if (!j.is_object()) throw Error("cli_filter options are not a JSON object");
    JobRequest job;
    job.name = str(j, "job-name").value_or("");
    job.account = str(j, "account").value_or("");
    job.partition = str(j, "partition").value_or("");
    if (struct passwd* pw = ::getpwuid(::getuid())) job.user = pw->pw_name;
    if (struct group* gr = ::getgrgid(::getgid())) job.group = gr->gr_name;
    job.nodes = count(str(j, "nodes")).value_or(1);
    job.tasks = count(str(j, "ntasks")).value_or(job.nodes);
    if (auto n = count(str(j, "ntasks-per-node")); n && !str(j, "ntasks"))
        job.tasks = checked::sat_mul_count(*n, job.nodes);
    job.cpus_per_task = count(str(j, "cpus-per-task")).value_or(1);
    if (auto g = str(j, "gpus")) {
        job.gpus = count(g, true).value_or(0);
        job.gpu_type = gpu_type_of(g);
    } else if (auto g2 = str(j, "gpus-per-node")) {
        job.gpus = checked::sat_mul_count(count(g2, true).value_or(0), job.nodes);
        job.gpu_type = gpu_type_of(g2);
    } else if (auto g3 = str(j, "gpus-per-task")) {
        job.gpus = checked::sat_mul_count(count(g3, true).value_or(0), job.tasks);
        job.gpu_type = gpu_type_of(g3);
    }
    if (auto m = str(j, "mem"))
        job.memory_bytes = mem_bytes(*m);
    else if (auto mc = str(j, "mem-per-cpu"))
        job.memory_bytes = checked::sat_mul(mem_bytes(*mc), job.cores()) / std::max(1u, job.nodes);
    if (auto t = str(j, "time"); t && *t != "UNLIMITED" && *t != "INFINITE")
        job.walltime_s = units::parse_duration_s(*t);
    if (auto c = str(j, "constraint")) job.features = split_list(*c);
    if (opts.data) job.inputs = *opts.data;
    if (opts.sites) {
        job.hints.allowed = opts.sites->wanted;
        job.hints.avoided = opts.sites->avoided;
        if (!opts.sites->wanted.empty()) job.hints.preferred = {opts.sites->wanted.front()};
    }
    if (opts.policy) job.hints.policy = *opts.policy;
    return job;
}

}  // namespace

JobRequest job_from_cli_json(const std::string& cli_json, const UserOptions& opts) {
    return job_from_options(json::parse(cli_json, nullptr, false), opts);
}

Submission parse_submission(const std::string& cli_json, const GetEnv& getenv) {
    const json j = json::parse(cli_json, nullptr, false);
    Submission s;
    const auto given = apply_cli_json(s.opts, j);  // throws for a non-object too
    apply_env(s.opts, given, getenv);
    s.job = job_from_options(j, s.opts);
    s.clusters = str(j, "clusters");
    return s;
}

std::optional<PluginConfig> config_for(const std::string& slurm_conf) {
    auto args = find_plugstack_args(plugstack_path_for(slurm_conf));
    if (!args) return std::nullopt;
    auto cfg = parse_plugin_args(*args);
    cfg.local_cluster = cluster_name_of(slurm_conf);
    return cfg;
}

namespace {
SubmitOutcome decide(Submission sub, const PluginConfig& cfg, double now);
}  // namespace

SubmitOutcome decide_submission(const std::string& cli_json, const PluginConfig& cfg,
                                const GetEnv& getenv, double now) {
    Submission sub;
    try {
        sub = parse_submission(cli_json, getenv);
    } catch (const std::exception& e) {
        SubmitOutcome out;
        out.action = SubmitOutcome::Action::refuse;
        out.message = e.what();
        return out;
    }
    // Nothing asked of netplace and no -M to check against the policy: Slurm's business.
    if (!sub.wants_netplace()) return {};
    const bool quiet = sub.only_checks_clusters();
    SubmitOutcome out;
    try {
        out = decide(std::move(sub), cfg, now);
    } catch (const std::exception& e) {
        out = SubmitOutcome{};
        out.warnings.push_back(
            fmt::format("cannot decide ({}); Slurm chooses the cluster", e.what()));
    }
    // A plain `-M x` is only checked against the policy: state fallbacks do not concern it.
    if (out.action != SubmitOutcome::Action::refuse && quiet) {
        out.warnings.clear();
        out.state_warnings.clear();
    }
    return out;
}

namespace {
SubmitOutcome decide(Submission sub, const PluginConfig& cfg, double now) {
    using A = SubmitOutcome::Action;
    SubmitOutcome out;
    const std::optional<std::string>& user_clusters = sub.clusters;
    try {
        policies::InputSources src;
        src.federation = cfg.federation;
        src.policy = cfg.policy;
        src.policy_may_be_missing = true;  // the plugin's default policy= need not exist
        // Links: the federation's probing.state_file, as on every door.
        src.sites = cfg.sites_path();
        src.max_state_age_s = cfg.max_state_age_s;
        policies::PlacementInputs in;
        try {
            in = policies::load_inputs(src, now);
        } catch (const policies::InputError& e) {
            out.warnings.push_back(fmt::format(
                "cannot read the {} ({}); Slurm chooses the cluster",
                e.part() == policies::InputError::Part::federation ? "federation" : "policy",
                e.what()));
            return out;
        }
        const Federation& fed = in.federation;
        JobRequest& job = sub.job;
        // The account Slurm will charge: -A (or SBATCH_ACCOUNT) as given, else the user's default
        // account from the collector's cache; in Slurm's lower case either way.
        if (job.account.empty() && !job.user.empty()) {
            if (auto a = cached_default_account(cfg.state_dir + "/" + kAccountsFile, job.user))
                job.account = *a;
        }
        job.account = slurm_account_name(job.account);
        if (!job.hints.policy) job.hints.policy = cfg.default_policy;
        // Datasets by name: the admin's catalog says where they live, how big they are and where
        // they may be read; the user's own figures only count for data it does not know.
        std::optional<data::Catalog> catalog;
        struct stat catalog_st {};
        if (!job.inputs.empty() && ::stat(cfg.catalog.c_str(), &catalog_st) == 0) {
            std::vector<std::string> names;
            for (const auto& s : fed.sites) names.push_back(s.name);
            try {
                catalog = data::load_catalog(cfg.catalog, names);
                // Queued stage-ins (link occupancy) and where copies already are.
                policies::add_staging_state(in, *catalog, now, src.links);
            } catch (const std::exception& e) {
                out.warnings.push_back(fmt::format(
                    "cannot read the dataset catalog ({}); Slurm chooses the cluster", e.what()));
                return out;
            }
        }
        try {
            for (auto& w : data::resolve_inputs(job.inputs, catalog ? &*catalog : nullptr))
                out.warnings.push_back(std::move(w));
        } catch (const Error& e) {
            out.action = A::refuse;
            out.message = invalid_message("place-data", e.what());
            return out;
        }
        if (user_clusters && *user_clusters != "all") {
            // The user's -M is a hard narrowing: the engine picks among those (and, under an
            // enforcing policy, refuses those the admin denies).
            std::vector<std::string> mine;
            for (const auto& c : split_list(*user_clusters)) {
                const Site* s = fed.find_cluster(c);
                if (!s) {
                    out.warnings.push_back(fmt::format(
                        "cluster '{}' (-M) is not a site of federation '{}'; left to Slurm", c,
                        fed.name));
                    return out;
                }
                mine.push_back(s->name);
            }
            if (job.hints.allowed.empty()) {
                job.hints.allowed = mine;
            } else {
                std::vector<std::string> both;
                for (const auto& s : job.hints.allowed)
                    if (std::find(mine.begin(), mine.end(), s) != mine.end()) both.push_back(s);
                if (both.empty()) {
                    // An empty allowed list would mean "any site": refuse here instead.
                    out.action = A::refuse;
                    out.message = fmt::format(
                        "netplace: no site may run this job: none of the clusters given with -M "
                        "({}) is among the sites of --place-sites ({})",
                        *user_clusters, fmt::join(job.hints.allowed, ","));
                    return out;
                }
                job.hints.allowed = std::move(both);
            }
        }
        auto d = policies::place(job, in);
        for (auto& w : d.warnings) out.warnings.push_back(w);
        for (auto& w : d.state_warnings) out.state_warnings.push_back(w);
        if (sub.opts.explain) out.explain = explain_table(d);
        if (!d.site) {
            out.action = A::refuse;
            std::string why;
            for (const auto& e : d.ranking)
                if (e.excluded) why += fmt::format("\n  {}: {}", e.site, *e.excluded);
            out.message = fmt::format("netplace: no site may run this job under policy '{}':{}",
                                      d.policy, why);
            return out;
        }
        out.user_clusters = user_clusters.has_value();
        out.site = *d.site;
        if (const Site* chosen = fed.find(*d.site); chosen && chosen->access == SiteAccess::rest) {
            // An independent centre: no -M can reach it; the door forwards over REST. Falling
            // back home is only offered when the engine did not exclude home for this job
            // (ACL, residency, enforced rules apply to the fallback too).
            out.action = A::forward;
            out.clusters = chosen->cluster;
            out.reason = compact_reason(d) + " route=rest";
            // Home: the site of the cluster this sbatch submits to, else the file's local_site.
            const Site* local = cfg.local_cluster ? fed.find_cluster(*cfg.local_cluster) : nullptr;
            const std::string home = local ? local->name : fed.local_site;
            for (const auto& e : d.ranking)
                if (e.site == home && !e.excluded) out.home_allowed = true;
            if (const Site* h = fed.find(home)) out.home_cluster = h->cluster;
            return out;
        }
        out.action = A::steer;
        out.clusters = d.cluster.empty() ? *d.site : d.cluster;
        // Staying home needs no -M (and sbatch then skips its slurmdbd lookup), unless the user
        // named clusters: then theirs must be replaced by the one chosen.
        if (!user_clusters && cfg.local_cluster && out.clusters == *cfg.local_cluster)
            out.clusters.clear();
        out.reason = compact_reason(d);
        if (catalog) {
            // Stage in what the chosen site has no catalog replica of.
            std::vector<std::string> need;
            for (const auto& input : job.inputs) {
                const auto* c = catalog->find(input.name);
                if (!c) continue;
                bool there = false;
                for (const auto& r : c->replicas) there |= r.site == *d.site;
                if (!there) need.push_back(input.name);
            }
            if (!need.empty()) out.bb = data::directive_for(need, fed.local_site);
        }
    } catch (const std::exception& e) {
        out = SubmitOutcome{};
        out.warnings.push_back(
            fmt::format("cannot decide ({}); Slurm chooses the cluster", e.what()));
    }
    return out;
}
}  // namespace

}  // namespace netplace::slurm
