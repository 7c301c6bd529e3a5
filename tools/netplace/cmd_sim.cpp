// `netplace sim`: replays a workload trace across a modelled federation and compares placement
// policies (baselines and netplace policies through the same engine as `netplace place`).
#include "command.hpp"

#include "netplace/core/error.hpp"
#include "netplace/core/file.hpp"
#include "netplace/core/units.hpp"
#include "netplace/network/federation.hpp"
#include "netplace/network/importers.hpp"
#include "netplace/network/link_state.hpp"
#include "netplace/policies/load_inputs.hpp"
#include "netplace/sim/metrics.hpp"
#include "netplace/sim/placers.hpp"
#include "netplace/sim/report.hpp"
#include "netplace/sim/simulator.hpp"
#include "netplace/sim/swf.hpp"
#include "netplace/sim/workload.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <exception>
#include <iostream>
#include <mutex>
#include <optional>
#include <thread>

namespace netplace::cli {
namespace {

struct SimArgs {
    std::string trace, federation, data_model, report, replica_cache = "0", runtime = "predicted";
    bool no_occupancy = false;
    std::vector<std::string> links, policies, policy_files;
    std::optional<std::uint64_t> seed;
    std::optional<std::size_t> max_jobs;
    unsigned threads = 0;
    bool json = false, strict = false;
};

int run_sim(const SimArgs& a) {
    using namespace netplace::sim;
    const Federation fed = network::load_federation(a.federation);
    RunInfo info;
    info.trace = a.trace;
    info.federation = a.federation;
    // Link figures: a link-state JSON (from probes or `netplace probe import`) and/or CSV
    // matrices (Skyplane's throughput/latency grids) imported with the network area's importer.
    // A replay is not "now": figures count as of the state file's time (CSV rows: that time too).
    std::optional<network::LinkState> state;
    std::vector<std::string> csvs;
    for (const auto& path : a.links) {
        if (network::is_csv_matrix(path)) {
            csvs.push_back(path);
        } else if (state) {
            throw ConfigError(
                "--links: give at most one link-state JSON file (CSV matrices may be added)");
        } else {
            state = network::read_link_state(path);
        }
    }
    if (!state) {
        state.emplace();
        state->federation = fed.name;
    }
    const double at = state->written_at;
    for (const auto& path : csvs) {
        const auto r = network::import_csv_file(path, fed, at);
        network::apply_imports(*state, r, fed.probing);
        std::size_t skipped = r.notes.size();
        info.notes.push_back(fmt::format(
            "{}: {} site pairs imported ({}){}", path, r.samples.size(), fmt::join(r.columns, "; "),
            skipped ? fmt::format(", {} notes (unmapped regions, failed runs, links down)", skipped)
                    : std::string()));
    }
    const policies::LinkMatrix links = policies::link_matrix(fed, &*state, at);
    info.links = a.links.empty() ? "static figures of the federation file"
                                 : fmt::format("{}", fmt::join(a.links, " + "));
    DataModel model;
    model.source = "built-in default (home site from the partition field, no data)";
    if (!a.data_model.empty()) model = load_data_model(a.data_model, fed);
    info.data_model = model.source;
    info.seed = a.seed ? *a.seed : model.seed.value_or(1);

    SwfOptions swf_opts;
    swf_opts.strict = a.strict;
    swf_opts.max_jobs = a.max_jobs;
    const SwfTrace trace = read_swf(a.trace, swf_opts);
    if (trace.malformed) {
        info.notes.push_back(fmt::format(
            "{} malformed lines skipped (use --strict to stop at the first)", trace.malformed));
        for (const auto& p : trace.problems) std::cerr << "netplace sim: warning: " << p << '\n';
    }
    WorkloadStats stats;
    const auto jobs = build_workload(trace, fed, model, info.seed, &stats);
    for (const auto& n : stats.notes) info.notes.push_back(n);
    info.jobs = jobs.size();
    if (jobs.empty()) {
        std::cerr << "netplace sim: " << a.trace << " holds no job that can be replayed\n";
        return bad_input;
    }

    const Network net = make_network(fed, links);
    PlacerContext ctx;
    ctx.federation = &fed;
    ctx.links = links;
    ctx.seed = info.seed;
    ctx.policy_files = a.policy_files;
    ctx.site_residency.assign(fed.sites.size(), std::string());
    for (const auto& [site, tag] : model.residency)
        for (std::size_t i = 0; i < fed.sites.size(); ++i)
            if (fed.sites[i].name == site) ctx.site_residency[i] = tag;
    ctx.occupancy = !a.no_occupancy;
    if (a.runtime != "predicted" && a.runtime != "requested")
        throw ConfigError(fmt::format(
            "--runtime '{}': use 'predicted' (the user's recent runtimes, capped by the request) "
            "or 'requested' (time limits only)",
            a.runtime));
    ctx.predict_runtime = a.runtime == "predicted";
    std::uint64_t cache_bytes = 0;
    try {
        cache_bytes = units::parse_size(a.replica_cache);
    } catch (const std::exception& e) {
        throw ConfigError(fmt::format("--replica-cache '{}': {} (a size such as 10T or 0)",
                                      a.replica_cache, e.what()));
    }
    if (cache_bytes > 0)
        info.notes.push_back(
            fmt::format("replica cache: {} per site (LRU)", units::format_size(cache_bytes)));
    info.notes.push_back(fmt::format(
        "netplace policies see {}, runtimes {}", ctx.occupancy ? "link occupancy" : "idle links",
        ctx.predict_runtime ? "predicted from each user's last two jobs" : "as requested"));
    const std::vector<double> bounds = job_bounds(jobs, fed, net);
    // Check every name before the first (possibly long) run.
    std::vector<std::unique_ptr<Placer>> placers;
    for (const auto& p : a.policies) placers.push_back(make_placer(p, ctx));

    // Policies replay independently (each its own placer and state over the same read-only
    // workload), so they run side by side on the available cores.
    const bool tty = isatty(STDERR_FILENO) != 0;
    const std::size_t total = jobs.size() * placers.size();
    std::atomic<std::size_t> submitted{0};
    std::mutex print_mutex;
    auto draw = [&] {
        const std::size_t done = submitted.load();
        const int width = 30;
        const int fill =
            static_cast<int>(static_cast<double>(done) / static_cast<double>(total) * width);
        std::lock_guard lock(print_mutex);
        std::fprintf(stderr, "\rsimulating %zu policies [%s%s] %3d%%", placers.size(),
                     std::string(fill, '#').c_str(), std::string(width - fill, ' ').c_str(),
                     static_cast<int>(100.0 * done / total));
        std::fflush(stderr);
    };
    std::vector<std::optional<Summary>> results(placers.size());
    std::vector<std::string> warnings(placers.size());
    std::vector<std::exception_ptr> errors(placers.size());
    std::atomic<std::size_t> next{0};
    auto worker = [&] {
        for (std::size_t i = next++; i < placers.size(); i = next++) {
            try {
                SimOptions opts;
                opts.replica_cache_bytes = cache_bytes;
                std::size_t last = 0;
                if (tty)
                    opts.progress = [&, last](std::size_t done, std::size_t) mutable {
                        submitted += done - last;
                        last = done;
                        draw();
                    };
                const SimResult r = simulate(fed, net, jobs, *placers[i], opts);
                if (!r.warnings.empty())
                    warnings[i] = fmt::format("{}: {} ({} such)", r.policy, r.warnings.front(),
                                              r.warnings.size());
                results[i] = summarise(r, jobs, fed, 100, &bounds);
            } catch (...) {
                errors[i] = std::current_exception();
            }
        }
    };
    const std::size_t threads = std::clamp<std::size_t>(
        a.threads ? a.threads : std::thread::hardware_concurrency(), 1, placers.size());
    std::vector<std::thread> pool;
    for (std::size_t t = 1; t < threads; ++t) pool.emplace_back(worker);
    worker();
    for (auto& t : pool) t.join();
    if (tty) std::fprintf(stderr, "\r\033[K");
    for (auto& e : errors)
        if (e) std::rethrow_exception(e);
    std::vector<Summary> summaries;
    for (std::size_t i = 0; i < placers.size(); ++i) {
        if (!warnings[i].empty()) info.notes.push_back(warnings[i]);
        summaries.push_back(std::move(*results[i]));
    }
    if (!a.report.empty()) file::write_atomic(a.report, render_html(info, summaries, fed, net));
    std::cout << (a.json ? render_json(info, summaries) : render_table(info, summaries));
    return ok;
}

Registration reg(60, [](CLI::App& app) -> std::function<int()> {
    auto args = std::make_shared<SimArgs>();
    auto* sub = app.add_subcommand(
        "sim", "Replay a workload trace across the federation and compare policies");
    sub->add_option("--trace", args->trace, "SWF workload trace (plain or .gz)")->required();
    sub->add_option("--federation", args->federation, "federation YAML")->required();
    sub->add_option(
        "--links", args->links,
        "link-state JSON and/or CSV matrices (Skyplane throughput/latency; repeatable); default: "
        "the federation's static figures");
    sub->add_option("--data-model", args->data_model,
                    "side-car YAML assigning home sites, inputs and outputs");
    sub->add_option("--policies", args->policies,
                    "comma-separated: local, random, round-robin, least-loaded, earliest-start, "
                    "data-local, or a "
                    "netplace policy name")
        ->required()
        ->delimiter(',');
    sub->add_option("--policy-file", args->policy_files,
                    "YAML policy file for netplace policies (repeatable)");
    sub->add_option("--seed", args->seed,
                    "seed for the data model and the random policy (default: model's, else 1)");
    sub->add_option("--max-jobs", args->max_jobs, "replay only the first N records of the trace");
    sub->add_option("--threads", args->threads,
                    "policies replayed in parallel (default: one per core)");
    sub->add_option("--replica-cache", args->replica_cache,
                    "per-site LRU cache of datasets moved there, e.g. 50T (default 0: none)");
    sub->add_option("--runtime", args->runtime,
                    "runtime netplace policies see: predicted (default; the user's last two "
                    "jobs, capped by the request) or requested");
    sub->add_flag("--no-occupancy", args->no_occupancy,
                  "netplace policies see links as idle (nominal bandwidth), as before occupancy");
    sub->add_flag("--strict", args->strict,
                  "stop at the first malformed trace line instead of skipping it");
    sub->add_flag("--json", args->json, "print JSON instead of a table");
    sub->add_option("--report", args->report, "write a self-contained HTML report here");
    return [args] { return run_sim(*args); };
});

}  // namespace
}  // namespace netplace::cli
