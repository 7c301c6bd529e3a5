// `netplace job status|cancel|options`: jobs that sbatch forwarded to an independent centre
// (access: rest) seen and cancelled from home, with the user's own token. Multi-cluster jobs
// need none of this: squeue/scancel/sacct -M reach them.
#if defined(NETPLACE_SLURM_PLACEMENT)
#include "command.hpp"

#include "netplace/core/error.hpp"
#include "netplace/network/federation.hpp"
#include "netplace/network/service.hpp"
#include "netplace/slurm/rest.hpp"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

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

// The site a job was forwarded to, by site or cluster name (sbatch printed the cluster).
const Site& rest_site(const Federation& fed, const std::string& name) {
    const Site* s = fed.find(name);
    if (!s) s = fed.find_cluster(name);
    if (!s) throw ConfigError(fmt::format("'{}' is not a site or cluster of {}", name, fed.source));
    if (s->access != SiteAccess::rest)
        throw ConfigError(
            fmt::format("site '{}' is a multi-cluster site: use squeue/scancel/sacct "
                        "-M {}",
                        s->name, s->cluster));
    return *s;
}

Registration job_reg(62, [](CLI::App& app) -> std::function<int()> {
    auto* job = app.add_subcommand(
        "job", "Jobs forwarded to independent centres (access: rest): state, cancel, options");
    job->require_subcommand(1);
    struct Options {
        std::string federation = network::default_federation_path();
        std::string cluster;
        long id = 0;
        bool json = false;
    };
    auto o = std::make_shared<Options>();
    auto* status = job->add_subcommand(
        "status", "State, exit code and output file of a forwarded job (at the centre)");
    auto* cancel = job->add_subcommand("cancel", "Cancel a forwarded job at its centre");
    for (auto* c : {status, cancel}) {
        c->add_option("-M,--cluster", o->cluster,
                      "the centre, as sbatch named it (\"on cluster D\")")
            ->required();
        c->add_option("jobid", o->id, "job id at the centre")->required();
        c->add_option("--federation", o->federation, "federation file");
    }
    status->add_flag("--json", o->json, "JSON instead of one line");
    auto* opts = job->add_subcommand(
        "options", "The sbatch options a forwarded job carries, and the REST field of each");
    return [=]() -> int {
        if (opts->parsed()) {
            for (const auto& [opt, field] : slurm::rest_supported_options())
                std::cout << fmt::format("--{:<18} {}\n", opt, field);
            return ok;
        }
        try {
            const Federation fed = network::load_federation(o->federation);
            const Site& site = rest_site(fed, o->cluster);
            const auto client = slurm::user_client(site, now_s());
            if (cancel->parsed()) {
                slurm::remote_job_cancel(client, o->id, site.rest.timeout_s);
                std::cout << fmt::format("job {} on cluster {}: cancel sent\n", o->id,
                                         site.cluster);
                return ok;
            }
            const auto j = slurm::remote_job_status(client, o->id, site.rest.timeout_s);
            if (o->json) {
                std::cout << nlohmann::json{{"job_id", j.job_id}, {"cluster", site.cluster},
                                            {"site", site.name},  {"state", j.state},
                                            {"reason", j.reason}, {"exit_code", j.exit_code},
                                            {"output", j.output}, {"name", j.name},
                                            {"user", j.user}}
                                 .dump()
                          << '\n';
            } else {
                std::cout << fmt::format(
                    "job {} on cluster {}: {} exit {} output {}:{}{}\n", j.job_id, site.cluster,
                    j.state, j.exit_code, site.name, j.output,
                    j.reason.empty() || j.reason == "None" ? std::string() : " reason " + j.reason);
            }
            // Like sacct users expect: the job's own exit code is not ours; failing to ask is.
            return ok;
        } catch (const ConfigError& e) {
            std::cerr << "netplace job: " << e.what() << '\n';
            return bad_input;
        } catch (const slurm::RestError& e) {
            std::cerr << "netplace job: " << e.what() << '\n';
            return failure;
        }
    };
});

}  // namespace
}  // namespace netplace::cli
#endif
