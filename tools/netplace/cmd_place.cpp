// `netplace place`: load the federation, link and site state, policies and a job; ask the engine
// where the job finishes first; print the answer, the ranked explanation or JSON.
#include "command.hpp"

#include "netplace/core/clock.hpp"
#include "netplace/core/error.hpp"
#include "netplace/core/file.hpp"
#include "netplace/core/units.hpp"
#include "netplace/core/yaml.hpp"
#include "netplace/data/catalog.hpp"
#include "netplace/network/service.hpp"
#include "netplace/policies/engine.hpp"
#include "netplace/policies/job_io.hpp"
#include "netplace/policies/load_inputs.hpp"
#include "netplace/policies/policy.hpp"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <sys/stat.h>

#include <cmath>
#include <iostream>
#include <optional>
#include <sstream>

namespace netplace::cli {
namespace {

struct PlaceOptions {
    std::string federation = network::default_federation_path();
    std::string policy;
    std::string job;
    std::string links;
    std::string sites_state;
    std::string use_policy;
    std::string catalog;
    double now = 0;
    double max_state_age_s = policies::kDefaultMaxStateAgeS;
    bool explain = false;
    bool json = false;
};

std::string dur(double s) { return s == 0 ? "0" : units::format_duration(s); }

std::string join(const std::vector<std::string>& v, const char* sep = ", ") {
    std::string out;
    for (const auto& s : v) out += (out.empty() ? "" : sep) + s;
    return out;
}

JobRequest read_job(const std::string& path) {
    if (path != "-") return policies::load_job_file(path);
    const std::string text = file::read_stream(0, "<stdin>", limits::Cap::input_file);
    const auto first = text.find_first_not_of(" \t\r\n");
    if (first != std::string::npos && text[first] == '{')
        return policies::parse_job_json(text, "<stdin>");
    return policies::parse_job_yaml(text, "<stdin>");
}

// Where in a YAML job file a site name sits, for `file:line:col` (JobRequest keeps no positions).
SourceLocation locate(const std::string& job_file, const std::string& section,
                      const std::string& key, const std::string& site) {
    SourceLocation none{job_file, 0, 0};
    if (job_file == "-" ||
        (job_file.size() >= 5 && job_file.compare(job_file.size() - 5, 5, ".json") == 0))
        return none;
    try {
        const auto doc = yaml::Doc::load_file(job_file);
        const YAML::Node& r = doc.root();
        auto match = [&](const YAML::Node& n) { return n && n.IsScalar() && n.Scalar() == site; };
        if (section == "inputs" && r["inputs"].IsSequence()) {
            for (const auto& d : r["inputs"])
                if (d.IsMap() && match(d["site"])) return yaml::where(job_file, d["site"]);
        } else if (section == "output" && r["output"].IsMap() && match(r["output"]["site"])) {
            return yaml::where(job_file, r["output"]["site"]);
        } else if (section == "sites" && r["sites"].IsMap()) {
            const YAML::Node list = r["sites"][key];
            if (match(list)) return yaml::where(job_file, list);
            if (list.IsSequence())
                for (const auto& item : list)
                    if (match(item)) return yaml::where(job_file, item);
        }
    } catch (const std::exception&) {
    }
    return none;
}

// Sites the job names must exist: a typo would otherwise silently move data over default links.
void check_job_sites(const JobRequest& job, const Federation& fed, const std::string& job_file) {
    std::vector<std::string> names;
    for (const auto& s : fed.sites) names.push_back(s.name);
    auto check = [&](const std::string& site, const std::string& what, const char* section,
                     const char* key) {
        if (fed.find(site)) return;
        std::string msg = fmt::format("{} '{}' is not a site of federation '{}' ({})", what, site,
                                      fed.name, fed.source);
        if (auto c = yaml::closest(site, names))
            msg += fmt::format(": did you mean '{}'?", *c);
        else
            msg += ": sites are " + join(names);
        const SourceLocation at = locate(job_file, section, key, site);
        if (at.line > 0) throw ConfigError(at, msg);
        throw ConfigError(job_file + ": " + msg);
    };
    for (const auto& d : job.inputs) check(d.site, "dataset '" + d.name + "' site", "inputs", "");
    if (job.home_site) check(*job.home_site, "output site", "output", "");
    for (const auto& s : job.hints.allowed) check(s, "allowed site", "sites", "allowed");
    for (const auto& s : job.hints.preferred) check(s, "preferred site", "sites", "preferred");
    for (const auto& s : job.hints.avoided) check(s, "avoided site", "sites", "avoided");
}

std::string terms(const SiteEstimate& e) {
    std::string s = fmt::format("{:.0f} = completion {:.0f}", e.score, e.terms.completion);
    if (e.terms.transfer != 0) s += fmt::format(" + transfer {:.0f}", e.terms.transfer);
    if (e.terms.price != 0) s += fmt::format(" + price {:.0f}", e.terms.price);
    if (e.terms.wan != 0) s += fmt::format(" + wan {:.0f}", e.terms.wan);
    if (e.terms.adjust != 0)
        s += fmt::format(" {} adjust {:.0f}", e.terms.adjust < 0 ? "-" : "+",
                         std::abs(e.terms.adjust));
    return s;
}

void print_table(std::ostream& out, const PlacementDecision& d) {
    size_t w = 4;
    for (const auto& e : d.ranking) w = std::max(w, e.site.size());
    out << fmt::format("{:>4}  {:<{}}  {:>7}  {:>8}  {:>7}  {:>9}  {:>7}  {:>9}  {:>10}  {}\n",
                       "rank", "site", w, "wait", "stage-in", "run", "stage-out", "total", "price",
                       "score", "excluded because");
    unsigned rank = 0;
    for (const auto& e : d.ranking) {
        const std::string r = e.excluded ? "-" : std::to_string(++rank);
        out << fmt::format(
            "{:>4}  {:<{}}  {:>7}  {:>8}  {:>7}  {:>9}  {:>7}  {:>9.2f}  {:>10.0f}  {}\n", r,
            e.site, w, dur(e.wait_s), dur(e.stage_in_s), dur(e.run_s), dur(e.stage_out_s),
            dur(e.total_s), e.price, e.score, e.excluded ? *e.excluded : "");
    }
    if (!d.run_basis.empty()) out << "run time from: " << d.run_basis << '\n';
    out << "score (what the policy minimises, seconds-equivalent):\n";
    for (const auto& e : d.ranking) out << fmt::format("  {}: {}\n", e.site, terms(e));
    bool any = false;
    for (const auto& e : d.ranking) {
        std::vector<std::string> notes = e.notes;
        if (e.link_transfers > 0)
            notes.push_back(fmt::format("stage-in shares a link with {} transfers already on it",
                                        e.link_transfers));
        if (notes.empty()) continue;
        if (!any) out << "notes:\n";
        any = true;
        out << fmt::format("  {}: {}\n", e.site, join(notes, "; "));
    }
    if (auto all = all_warnings(d); !all.empty()) {
        out << "warnings:\n";
        for (const auto& wn : all) out << "  " << wn << '\n';
    }
}

// One link a decision used: which site measured it and how old that figure is (with the signed
// exchange a link may come from another site's snapshot, docs/network.md).
struct LinkUsed {
    LinkEstimate link;
    const Dataset* dataset;
    std::string measured_by;  // empty: not measured (see link->source)
};

std::vector<LinkUsed> links_used(const JobRequest& job, const PlacementDecision& d,
                                 const policies::PlacementInputs& in) {
    auto index = [&](const std::string& name) -> std::optional<std::size_t> {
        const int i = in.site_index(name);  // by the inputs' index: sites x ranking stays linear
        if (i < 0) return std::nullopt;
        return static_cast<std::size_t>(i);
    };
    std::vector<LinkUsed> out;
    for (const auto& ds : job.inputs) {
        const auto copies = in.replicas.find(ds.name);
        for (const auto& e : d.ranking) {
            if (e.excluded || e.site == ds.site) continue;
            // A candidate holding a copy reads it there: no link carries this dataset to it.
            if (const auto at = index(e.site);
                at && copies != in.replicas.end() &&
                std::find(copies->second.begin(), copies->second.end(),
                          static_cast<std::uint32_t>(*at)) != copies->second.end())
                continue;
            // The engine's source for this data at this site: a copy's site (nearest replica)
            // or the data's own.
            const std::string* source = &ds.site;
            for (const auto& [data_at, copy_at] : e.stage_in_sources)
                if (data_at == ds.site) source = &copy_at;
            const auto from = index(*source);
            if (!from) continue;
            const auto to = index(e.site);
            auto l = to ? in.links.get(*from, *to) : std::nullopt;
            if (!l) continue;
            std::string by = l->measured ? (l->origin.empty() ? l->to : l->origin) : "";
            out.push_back({std::move(*l), &ds, std::move(by)});
        }
    }
    return out;
}

void print_links_used(std::ostream& out, const std::vector<LinkUsed>& used) {
    if (!used.empty()) out << "links used (data -> candidate):\n";
    for (const auto& u : used) {
        const LinkEstimate& l = u.link;
        std::string by = !u.measured_by.empty() ? "measured by " + u.measured_by
                                                : std::string(l.source) + " figure";
        if (l.age_s) by += ", " + units::format_duration(*l.age_s) + " old";
        out << fmt::format("  {} -> {}: {} ({}) for dataset '{}'\n", l.from, l.to,
                           units::format_rate(l.bandwidth_bps), by, u.dataset->name);
    }
}

// `--json --explain`: the decision's JSON plus what the text explanation adds to the ranking
// (the one-line reason and the links used, with who measured them and how long ago).
nlohmann::ordered_json explanation_json(const PlacementDecision& d,
                                        const std::vector<LinkUsed>& used,
                                        const std::string& summary) {
    nlohmann::ordered_json links = nlohmann::ordered_json::array();
    for (const auto& u : used) {
        const LinkEstimate& l = u.link;
        links.push_back(
            {{"from", l.from},
             {"to", l.to},
             {"dataset", u.dataset->name},
             {"bandwidth_bps", l.bandwidth_bps},
             {"latency_s", l.latency_s},
             {"measured_by", u.measured_by.empty() ? nlohmann::ordered_json(nullptr)
                                                   : nlohmann::ordered_json(u.measured_by)},
             {"source", l.source},
             {"age_s",
              l.age_s ? nlohmann::ordered_json(*l.age_s) : nlohmann::ordered_json(nullptr)}});
    }
    return {{"summary", d.site ? nlohmann::ordered_json(summary) : nlohmann::ordered_json(nullptr)},
            {"links_used", std::move(links)}};
}

std::string why_first(const PlacementDecision& d) {
    const SiteEstimate& best = d.ranking.front();
    std::string s = fmt::format(
        "est. completion {} = wait {} + stage-in {} + run {} + stage-out {}", dur(best.total_s),
        dur(best.wait_s), dur(best.stage_in_s), dur(best.run_s), dur(best.stage_out_s));
    if (d.ranking.size() > 1 && !d.ranking[1].excluded) {
        const SiteEstimate& next = d.ranking[1];
        if (next.total_s < best.total_s) {
            s += fmt::format("; {} would finish sooner ({}) but scores higher under this policy",
                             next.site, dur(next.total_s));
        } else {
            s += fmt::format("; next best: {} ({})", next.site, dur(next.total_s));
        }
    }
    return s;
}

int run(const PlaceOptions& o) {
    const double now = o.now > 0 ? o.now : now_unix();
    policies::InputSources src;
    src.federation = o.federation;
    if (!o.policy.empty()) src.policy = o.policy;
    if (!o.links.empty()) src.links = o.links;
    if (!o.sites_state.empty()) src.sites = o.sites_state;
    src.max_state_age_s = o.max_state_age_s;
    policies::PlacementInputs in = [&] {
        try {
            return policies::load_inputs(src, now);
        } catch (const policies::InputError& e) {
            std::rethrow_exception(e.cause());  // reported as the file's own error
        }
    }();

    JobRequest job = read_job(o.job);
    // Datasets by name resolve through the admin's catalog (authoritative for size, home site and
    // residency); the job's own figures only count for data it does not list.
    std::optional<data::Catalog> catalog;
    const std::string catalog_path = o.catalog.empty() ? data::default_catalog_path() : o.catalog;
    struct stat st {};
    if (!o.catalog.empty() || ::stat(catalog_path.c_str(), &st) == 0) {
        std::vector<std::string> names;
        for (const auto& s : in.federation.sites) names.push_back(s.name);
        catalog = data::load_catalog(catalog_path, names);
        // Queued stage-ins (link occupancy) and where copies already are.
        policies::add_staging_state(in, *catalog, now, src.links);
    }
    try {
        for (const auto& w : data::resolve_inputs(job.inputs, catalog ? &*catalog : nullptr))
            std::cerr << "netplace: warning: " << w << '\n';
    } catch (const ConfigError&) {
        throw;
    } catch (const Error& e) {
        throw ConfigError(o.job + ": " + e.message());
    }
    check_job_sites(job, in.federation, o.job);
    if (!o.use_policy.empty()) {
        if (!in.policies.find(o.use_policy)) {
            throw ConfigError(fmt::format("--use-policy '{}' is not defined in {}", o.use_policy,
                                          in.policies.source()));
        }
        job.hints.policy = o.use_policy;
    }

    const PlacementDecision d = policies::place(job, in);
    const std::string label = job.name.empty() ? std::string("the job") : "job '" + job.name + "'";

    if (o.json && o.explain) {
        auto j = nlohmann::ordered_json::parse(policies::decision_to_json(d, -1));
        j["explanation"] = explanation_json(d, links_used(job, d, in), d.site ? why_first(d) : "");
        std::cout << j.dump(2) << '\n';
    } else if (o.json) {
        std::cout << policies::decision_to_json(d, 2) << '\n';
    } else if (d.site) {
        std::cout << fmt::format("{} -> {} (Slurm cluster {}) by policy '{}': {}\n", label, *d.site,
                                 d.cluster, d.policy, why_first(d));
        if (o.explain) {
            print_table(std::cout, d);
            print_links_used(std::cout, links_used(job, d, in));
        }
    } else if (o.explain) {
        print_table(std::cout, d);
        print_links_used(std::cout, links_used(job, d, in));
    }
    if (!o.explain) {
        for (const auto& wn : all_warnings(d)) std::cerr << "netplace: warning: " << wn << '\n';
    }
    if (!d.site) {
        std::cerr << fmt::format("netplace: no site qualifies for {} under policy '{}':\n", label,
                                 d.policy);
        for (const auto& e : d.ranking)
            std::cerr << fmt::format("  {}: {}\n", e.site, e.excluded.value_or("?"));
        return no_site;
    }
    return ok;
}

Registration reg(40, [](CLI::App& app) -> std::function<int()> {
    auto o = std::make_shared<PlaceOptions>();
    auto* cmd = app.add_subcommand(
        "place", "Choose the site where a job finishes first under the policy, and say why");
    cmd->add_option("--federation,-f", o->federation, network::federation_option_help());
    cmd->add_option("--policy", o->policy,
                    "policy file (etc/policy.yaml); default: the built-in presets");
    cmd->add_option("--job", o->job, "job file, YAML or .json; '-' reads YAML or JSON from stdin")
        ->required();
    cmd->add_option("--links", o->links,
                    "link-state file (default: the federation's probing.state_file; "
                    "static figures when missing); a *.csv file is a measured matrix "
                    "(Skyplane's throughput.csv, as `sim --links` reads), taken as measured now");
    cmd->add_option("--sites-state", o->sites_state,
                    "site-state file (queue load); default: static waits");
    cmd->add_option("--max-state-age", o->max_state_age_s,
                    "site state older than this many seconds is not believed (static waits); "
                    "the Slurm plugin's max_state_age")
        ->capture_default_str();
    cmd->add_option("--catalog", o->catalog,
                    "dataset catalog (default $NETPLACE_CATALOG or /etc/netplace/datasets.yaml "
                    "when it exists): inputs named there take its site, size and residency");
    cmd->add_option("--use-policy", o->use_policy,
                    "place under this named policy, as if the job asked for it");
    cmd->add_option("--now", o->now,
                    "unix time to judge link and site-state age against (default: now)");
    cmd->add_flag("--explain", o->explain,
                  "print the ranked per-site table: wait, stage-in, run, stage-out, total, price, "
                  "score, exclusions");
    cmd->add_flag("--json", o->json,
                  "print the decision as JSON (with --explain: plus an `explanation` object, "
                  "the one-line reason and the links used with who measured them)");
    return [o] { return run(*o); };
});

}  // namespace
}  // namespace netplace::cli
