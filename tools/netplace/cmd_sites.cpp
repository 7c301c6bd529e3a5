// `netplace sites collect`: each site's Slurm load into the site-state file (run by
// etc/systemd/netplace-sites-collect.timer). `netplace slurm decide`: the cli_filter decision
// with the options JSON on stdin — the CLI door the Lua module was measured against
// (bench/slurm), also handy to see what a submission would do.
// Both come from the Slurm glue library; without it (NETPLACE_BUILD_SLURM=OFF) this file is empty.
#if defined(NETPLACE_SLURM_PLACEMENT)
#include "command.hpp"

#include "netplace/core/error.hpp"
#include "netplace/core/file.hpp"
#include "netplace/core/units.hpp"
#include "netplace/network/federation.hpp"
#include "netplace/network/service.hpp"
#include "netplace/policies/site_state.hpp"
#include "netplace/slurm/accounts.hpp"
#include "netplace/slurm/collect.hpp"
#include "netplace/slurm/placement.hpp"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <cstdlib>
#include <ctime>
#include <iostream>
#include <memory>

namespace netplace::cli {
namespace {

double now_s() {
    timespec ts{};
    clock_gettime(CLOCK_REALTIME, &ts);
    return static_cast<double>(ts.tv_sec) + ts.tv_nsec * 1e-9;
}

Registration sites_reg(60, [](CLI::App& app) -> std::function<int()> {
    auto* sites = app.add_subcommand("sites", "Site load from Slurm for the placement engine");
    sites->require_subcommand(1);
    struct Options {
        std::string federation = network::default_federation_path();
        std::string output = "/var/lib/netplace/sites.json";
        std::string timeout = "10s";
        std::string controllers;  // default: slurm-controllers.json next to --output
        std::string accounts;     // default: slurm-accounts.json next to --output
        bool print = false;
    };
    auto o = std::make_shared<Options>();
    auto* collect = sites->add_subcommand(
        "collect", "Read every site's cluster (sinfo/squeue -M) into the site-state file");
    collect->add_option("--federation", o->federation,
                        "federation file (sites and their Slurm clusters)");
    collect->add_option("--output", o->output, "site-state file, replaced atomically");
    collect->add_option("--timeout", o->timeout,
                        "bound for each sinfo/squeue/sacctmgr call (default 10s)");
    collect->add_option(
        "--controllers", o->controllers,
        "controller records for direct steering (sacctmgr show cluster), replaced atomically; "
        "default: slurm-controllers.json next to --output; 'none': do not write");
    collect->add_option(
        "--accounts", o->accounts,
        "users' default Slurm accounts (sacctmgr show user), replaced atomically; default: "
        "slurm-accounts.json next to --output; 'none': do not write");
    collect->add_flag("--print", o->print, "also print the collected state on stdout");
    return [=]() -> int {
        const Federation fed = network::load_federation(o->federation);
        double timeout_s = 0;
        try {
            timeout_s = units::parse_duration_s(o->timeout);
        } catch (const Error& e) {
            std::cerr << "netplace sites collect: --timeout: " << e.what() << '\n';
            return bad_input;
        }
        auto r = slurm::collect_sites(fed, timeout_s);
        for (const auto& e : r.errors) std::cerr << "netplace sites collect: " << e << '\n';
        for (const auto& w : r.warnings)
            std::cerr << "netplace sites collect: warning: " << w << '\n';
        // A site that could not be read is left out: readers then use its static wait, rather
        // than trusting figures that may be arbitrarily old.
        policies::write_site_state(o->output, r.loads, now_s());
        if (o->print) std::cout << policies::format_site_state(r.loads, now_s());
        std::cerr << fmt::format("netplace sites collect: {} of {} sites written to {}\n",
                                 r.loads.size(), fed.sites.size(), o->output);
        bool failed = !r.errors.empty();
        if (o->controllers != "none") {
            std::string path = o->controllers;
            if (path.empty()) {
                auto slash = o->output.rfind('/');
                path =
                    (slash == std::string::npos ? std::string(".") : o->output.substr(0, slash)) +
                    "/" + slurm::kControllersFile;
            }
            // Only clusters that just answered get a record; when sacctmgr fails the old file is
            // kept and ages out (controller_max_age), after which steering uses Slurm's -M path.
            try {
                auto recs = slurm::collect_controllers(r.answered, timeout_s);
                slurm::write_controllers(path, recs, now_s());
                std::cerr << fmt::format(
                    "netplace sites collect: {} controller record(s) written to {}\n", recs.size(),
                    path);
            } catch (const std::exception& e) {
                std::cerr << "netplace sites collect: controllers: " << e.what() << '\n';
                failed = true;
            }
        }
        // Users' default accounts: a job without -A is charged to it, so account ACLs judge it
        // as that account. On failure the old file is kept.
        if (o->accounts != "none") {
            std::string path = o->accounts;
            if (path.empty()) {
                auto slash = o->output.rfind('/');
                path =
                    (slash == std::string::npos ? std::string(".") : o->output.substr(0, slash)) +
                    "/" + slurm::kAccountsFile;
            }
            try {
                auto accounts = slurm::collect_default_accounts(timeout_s);
                slurm::write_default_accounts(path, accounts, now_s());
                std::cerr << fmt::format(
                    "netplace sites collect: {} users' default accounts written to {}\n",
                    accounts.size(), path);
            } catch (const std::exception& e) {
                std::cerr << "netplace sites collect: default accounts: " << e.what() << '\n';
                failed = true;
            }
        }
        return failed ? failure : ok;
    };
});

Registration slurm_reg(61, [](CLI::App& app) -> std::function<int()> {
    auto* sl = app.add_subcommand("slurm", "Slurm integration helpers");
    sl->require_subcommand(1);
    auto conf = std::make_shared<std::string>();
    auto* decide = sl->add_subcommand(
        "decide",
        "Placement decision for a submission: slurm.json_cli_options() JSON on stdin, JSON out");
    decide->add_option("--slurm-conf", *conf,
                       "slurm.conf whose plugstack.conf configures netplace "
                       "(default: $SLURM_CONF or /etc/slurm/slurm.conf)");
    return [=]() -> int {
        std::string path = !conf->empty() ? *conf
                                          : (std::getenv("SLURM_CONF") ? std::getenv("SLURM_CONF")
                                                                       : "/etc/slurm/slurm.conf");
        const std::string in = file::read_stream(0, "<stdin>", limits::Cap::input_file);
        nlohmann::json out;
        auto cfg = slurm::config_for(path);
        if (!cfg) {
            out = {{"action", "none"},
                   {"warnings", {"spank_netplace.so is not in plugstack.conf of " + path}}};
        } else {
            auto r = slurm::decide_submission(
                in, *cfg,
                [](const char* n) -> std::optional<std::string> {
                    const char* v = std::getenv(n);
                    return v ? std::optional<std::string>(v) : std::nullopt;
                },
                now_s());
            using A = slurm::SubmitOutcome::Action;
            out["action"] = r.action == A::steer     ? "steer"
                            : r.action == A::refuse  ? "refuse"
                            : r.action == A::forward ? "forward"
                                                     : "none";
            if (!r.clusters.empty()) out["clusters"] = r.clusters;
            if (!r.site.empty()) out["site"] = r.site;
            if (!r.reason.empty()) out["reason"] = r.reason;
            if (!r.message.empty()) out["message"] = r.message;
            if (r.explain) out["explain"] = *r.explain;
            // A one-shot view: every warning, job and state alike.
            auto all = r.state_warnings;
            all.insert(all.end(), r.warnings.begin(), r.warnings.end());
            out["warnings"] = all;
        }
        std::cout << out.dump() << '\n';
        return ok;
    };
});

}  // namespace
}  // namespace netplace::cli
#endif
