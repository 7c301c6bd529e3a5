// `netplace stage`: move catalog datasets to this site before a job (in), a job's outputs home
// after it (out), and show the ledger and the replicas (status). burst_buffer.lua calls the
// `--job-script` forms; admins and users call the others.
#include "command.hpp"

#include "netplace/core/error.hpp"
#include "netplace/core/file.hpp"
#include "netplace/core/units.hpp"
#include "netplace/data/catalog.hpp"
#include "netplace/data/ledger.hpp"
#include "netplace/data/replicas.hpp"
#include "netplace/data/stage.hpp"
#include "netplace/network/exchange.hpp"
#include "netplace/network/federation.hpp"
#include "netplace/network/service.hpp"
#include "netplace/policies/policy.hpp"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <sys/stat.h>
#include <unistd.h>

#include <cctype>
#include <cstdlib>
#include <iostream>

namespace netplace::cli {
namespace {

using json = nlohmann::json;

std::string default_policy_path() {
    if (const char* e = std::getenv("NETPLACE_POLICY_FILE"); e && *e) return e;
    return "/etc/netplace/policy.yaml";
}

struct StageCommon {
    std::string catalog = data::default_catalog_path();
    std::string federation = network::default_federation_path();
    std::string policy = default_policy_path();
    std::string job;
    std::string job_script;
    bool json = false;
    void add(CLI::App* c, bool job_opts) {
        c->add_option("--catalog", catalog,
                      "dataset catalog (default $NETPLACE_CATALOG or /etc/netplace/datasets.yaml)");
        c->add_option("--federation,-f", federation,
                      network::federation_option_help() + ", for this site's name");
        if (job_opts) {
            c->add_option("--policy", policy,
                          "policy file, for residency (default $NETPLACE_POLICY_FILE or "
                          "/etc/netplace/policy.yaml; missing: built-in presets)");
            c->add_option("--job", job, "Slurm job id the transfer is for");
            c->add_option("--job-script", job_script,
                          "read the datasets/outputs from this job script's #BB_LUA netplace_* "
                          "directives (burst_buffer.lua)");
        }
        c->add_flag("--json", json, "print JSON");
    }
};

struct Loaded {
    Federation fed;
    data::Catalog catalog;
};

Loaded load(const StageCommon& o) {
    Loaded l;
    l.fed = network::load_federation(o.federation);
    std::vector<std::string> sites;
    for (const auto& s : l.fed.sites) sites.push_back(s.name);
    l.catalog = data::load_catalog(o.catalog, sites);
    if (l.fed.local_site.empty())
        throw ConfigError(o.federation + ": local_site is not set: staging needs this site's name");
    return l;
}

// Per-job records live beside Slurm's copy of the job script (<StateSaveLocation>/hash.N/job.ID/):
// private to the controller, gone with the job; teardown removes ours so Slurm's rmdir works.
std::string job_file(const StageCommon& o, const char* name) {
    const auto slash = o.job_script.rfind('/');
    return (slash == std::string::npos ? std::string(".") : o.job_script.substr(0, slash)) + "/" +
           name;
}

std::string env_name(const std::string& dataset) {
    std::string n = "NETPLACE_DATA_";
    for (char ch : dataset)
        n += std::isalnum(static_cast<unsigned char>(ch))
                 ? static_cast<char>(std::toupper(static_cast<unsigned char>(ch)))
                 : '_';
    return n;
}

// A one-line progress display, only on a terminal (Slurm's stager has none).
void show_progress(const data::LedgerEntry& e) {
    if (!::isatty(2)) return;
    const double pct =
        e.bytes_total ? 100.0 * double(e.bytes_total - e.bytes_left) / double(e.bytes_total) : 100;
    std::cerr << fmt::format("\r{} {}->{} {:5.1f}% {} of {} {}   ", e.dataset, e.from, e.to, pct,
                             units::format_size(e.bytes_total - e.bytes_left),
                             units::format_size(e.bytes_total), units::format_rate(e.rate_bps))
              << std::flush;
}

// One line a held job's Reason can show, prefixed with the failure kind; exit 1.
int stage_failed(const data::StageError& e) {
    std::cout << "netplace: " << e.what() << std::endl;
    return failure;
}

int run_in(const StageCommon& o, std::vector<std::string> datasets) {
    const Loaded l = load(o);
    if (!o.job_script.empty()) {
        auto d = data::parse_directives(file::read_all(o.job_script, 4u << 20));
        datasets.insert(datasets.end(), d.inputs.begin(), d.inputs.end());
    }
    struct stat st {};
    const policies::PolicySet pols = ::stat(o.policy.c_str(), &st) == 0
                                         ? policies::PolicySet::load_file(o.policy)
                                         : policies::PolicySet::builtin();
    auto signals = network::install_service_signals();
    data::StageHooks hooks;
    hooks.abort = &signals.stop;
    hooks.progress = show_progress;
    json out = json::array();
    std::string env = "NETPLACE_DATA_DIR=" + l.catalog.staging.data_dir + "\n";
    for (const auto& name : datasets) {
        std::optional<std::vector<std::string>> allowed;
        if (const auto* ds = l.catalog.find(name); ds && ds->residency)
            if (const auto* sites = pols.residency(*ds->residency)) allowed = *sites;
        data::StageInResult r;
        try {
            r = data::stage_in(l.catalog, l.fed.local_site, allowed, name, o.job, hooks);
        } catch (const data::StageError& e) {
            if (::isatty(2)) std::cerr << '\n';
            return stage_failed(e);
        }
        if (::isatty(2) && r.transferred) std::cerr << '\n';
        env += env_name(name) + "=" + r.path + "\n";
        out.push_back({{"dataset", r.dataset},
                       {"path", r.path},
                       {"transferred", r.transferred},
                       {"from", r.from},
                       {"fetched_bytes", r.fetched},
                       {"resumed_bytes", r.resumed},
                       {"seconds", r.seconds},
                       {"goodput_bps", r.goodput_bps}});
        if (!o.json) {
            if (r.transferred)
                std::cout << fmt::format(
                    "{}: staged from {} to {}: {} fetched ({} resumed) in "
                    "{:.1f} s, {}\n",
                    name, r.from, r.path, units::format_size(r.fetched),
                    units::format_size(r.resumed), r.seconds, units::format_rate(r.goodput_bps));
            else
                std::cout << fmt::format("{}: replica already at {}\n", name, r.path);
        }
    }
    // The job's environment (burst_buffer.lua's paths function copies this file).
    if (!o.job_script.empty()) file::write_atomic(job_file(o, "netplace.env"), env, 0600);
    if (o.json) std::cout << out.dump(2) << '\n';
    return ok;
}

int run_setup(const StageCommon& o, unsigned uid) {
    if (o.job_script.empty()) throw ConfigError("stage setup: --job-script is required");
    file::write_atomic(job_file(o, "netplace.uid"), std::to_string(uid) + "\n", 0600);
    return ok;
}

int run_out(const StageCommon& o, std::vector<std::string> files, std::string home,
            std::optional<unsigned> uid) {
    const Loaded l = load(o);
    if (!o.job_script.empty()) {
        auto d = data::parse_directives(file::read_all(o.job_script, 4u << 20));
        files.insert(files.end(), d.outputs.begin(), d.outputs.end());
        if (home.empty() && d.home) home = *d.home;
    }
    if (files.empty()) return ok;  // nothing declared: nothing to send
    if (home.empty()) home = l.fed.local_site;
    if (!uid) {
        try {
            uid =
                static_cast<unsigned>(std::stoul(file::read_all(job_file(o, "netplace.uid"), 64)));
        } catch (const std::exception&) {
            // No owner on record: only files of whoever runs this may leave.
            uid = static_cast<unsigned>(::getuid());
        }
    }
    auto signals = network::install_service_signals();
    data::StageHooks hooks;
    hooks.abort = &signals.stop;
    try {
        auto res = data::stage_out(l.catalog, l.fed.local_site, home, o.job, files, *uid, hooks);
        json out = json::array();
        for (const auto& r : res) {
            out.push_back({{"file", r.file}, {"url", r.url}, {"bytes", r.bytes}});
            if (!o.json)
                std::cout << fmt::format("{}: sent to {} ({})\n", r.file, r.url,
                                         units::format_size(r.bytes));
        }
        if (o.json) std::cout << out.dump(2) << '\n';
    } catch (const data::StageError& e) {
        return stage_failed(e);
    }
    return ok;
}

int run_teardown(const StageCommon& o) {
    if (o.job_script.empty()) return ok;
    for (const char* name : {"netplace.env", "netplace.uid"}) ::unlink(job_file(o, name).c_str());
    return ok;
}

int run_status(const StageCommon& o) {
    const Loaded l = load(o);
    const auto ledger = data::read_ledger(l.catalog.staging.ledger_path());
    const auto reps = data::read_replicas(l.catalog.staging.replicas_path());
    const double now = now_unix();
    // What peers published through the exchange (next to the link state the probe daemon keeps).
    const std::string peer_path = network::peer_staging_path(l.fed.probing.state_file);
    network::PeerStaging peers;
    std::string peer_error;
    try {
        peers = network::read_peer_staging(peer_path);
    } catch (const std::exception& e) {
        peer_error = e.what();
    }
    if (o.json) {
        json j = json::parse(data::ledger_json(ledger, -1));
        j["replicas"] = json::parse(data::replicas_json(reps, -1))["replicas"];
        json occ = json::array();
        for (const auto& x : data::link_occupancy(ledger, now))
            occ.push_back({{"from", x.from},
                           {"to", x.to},
                           {"bytes_left", x.bytes_left},
                           {"transfers", x.transfers}});
        j["links"] = occ;
        j["peers"] = json::parse(network::peer_staging_json(peers))["sites"];
        if (!peer_error.empty()) j["peers_error"] = peer_error;
        std::cout << j.dump(2) << '\n';
        return ok;
    }
    std::cout << fmt::format("transfers ({}):\n", l.catalog.staging.ledger_path());
    if (ledger.transfers.empty()) std::cout << "  none\n";
    for (const auto& e : ledger.transfers) {
        std::cout << fmt::format("  {:<8} {} {}->{} {} left of {} {} started {:.0f} s ago{}{}\n",
                                 e.state, e.dataset, e.from, e.to, units::format_size(e.bytes_left),
                                 units::format_size(e.bytes_total), units::format_rate(e.rate_bps),
                                 now - e.started, e.job.empty() ? "" : " job " + e.job,
                                 e.reason.empty() ? "" : ": " + e.reason);
    }
    std::cout << fmt::format("replicas at {} ({} of quota {}):\n", l.fed.local_site,
                             units::format_size(reps.bytes_at(l.fed.local_site)),
                             units::format_size(l.catalog.staging.quota_bytes));
    if (reps.replicas.empty()) std::cout << "  none\n";
    for (const auto& r : reps.replicas)
        std::cout << fmt::format("  {} at {}: {} {} (last used {:.0f} s ago)\n", r.dataset, r.site,
                                 r.path, units::format_size(r.bytes), now - r.last_used);
    print_peer_staging(std::cout, peers, peer_error, now);
    return ok;
}

Registration reg(55, [](CLI::App& app) -> std::function<int()> {
    auto* cmd = app.add_subcommand(
        "stage", "Move catalog datasets to this site (in), job outputs home (out), show transfers");
    cmd->require_subcommand(1);
    auto o = std::make_shared<StageCommon>();
    auto datasets = std::make_shared<std::vector<std::string>>();
    auto files = std::make_shared<std::vector<std::string>>();
    auto home = std::make_shared<std::string>();
    auto uid = std::make_shared<long>(-1);

    auto* in = cmd->add_subcommand("in",
                                   "Stage catalog datasets to this site: resumable, "
                                   "sha256-verified, registered as replicas");
    in->add_option("datasets", *datasets, "dataset names from the catalog");
    o->add(in, true);
    auto* out = cmd->add_subcommand("out", "Send a job's output files to its home site (HTTP PUT)");
    out->add_option("files", *files, "absolute paths of output files");
    out->add_option("--home", *home,
                    "site to send them to (default: the job script's "
                    "netplace_home, else this site)");
    out->add_option("--uid", *uid, "owner the files must have (default: the job's, from setup)");
    o->add(out, true);
    auto* setup = cmd->add_subcommand("setup",
                                      "Record a job's owner before its stage-in "
                                      "(burst_buffer.lua)");
    setup->add_option("--uid", *uid, "the job's uid")->required();
    o->add(setup, true);
    auto* teardown = cmd->add_subcommand("teardown",
                                         "Forget a job's staging records "
                                         "(burst_buffer.lua)");
    o->add(teardown, true);
    auto* status = cmd->add_subcommand("status",
                                       "Transfers in flight or failed (the ledger), "
                                       "replicas here, per-link occupancy");
    o->add(status, false);

    return [=]() -> int {
        auto need_job = [&] {
            if (o->job.empty()) throw ConfigError("--job is required");
        };
        if (in->parsed()) {
            if (datasets->empty() && o->job_script.empty())
                throw ConfigError("stage in: name datasets or give --job-script");
            return run_in(*o, *datasets);
        }
        if (out->parsed()) {
            need_job();
            return run_out(
                *o, *files, *home,
                *uid >= 0 ? std::optional<unsigned>(static_cast<unsigned>(*uid)) : std::nullopt);
        }
        if (setup->parsed()) return run_setup(*o, static_cast<unsigned>(*uid));
        if (teardown->parsed()) return run_teardown(*o);
        return run_status(*o);
    };
});

}  // namespace
}  // namespace netplace::cli
