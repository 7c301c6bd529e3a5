#include "netplace/network/service.hpp"

#include "netplace/core/file.hpp"
#include "netplace/core/log.hpp"
#include "netplace/core/paths.hpp"
#include "netplace/network/exchange.hpp"
#include "netplace/network/exporters.hpp"
#include "netplace/network/federation.hpp"
#include "netplace/network/peer_links.hpp"
#include "netplace/network/probe.hpp"

#include <chrono>
#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <mutex>
#include <thread>

namespace netplace::network {
namespace {

namespace fs = std::filesystem;

// Writes the daemon's own links into the shared file, keeping everyone else's (imports, other
// writers). Returns the merged state.
LinkState save(const Scheduler& sched, const LinkState& mine, const std::string& state_path,
               const std::optional<std::string>& prom_path) {
    const Federation& fed = sched.federation();
    const double now = now_unix();
    LinkState merged = update_link_state(
        state_path,
        [&](LinkState& file) {
            file.federation = fed.name;
            file.writer_site = fed.local_site;
            for (const auto& r : mine.links) {
                if (!sched.owns(r)) continue;
                if (LinkRecord* x = file.find(r.from, r.to))
                    *x = r;
                else
                    file.links.push_back(r);
            }
        },
        now);
    if (prom_path) {
        try {
            LinkState all = merged;  // the metrics show the peers' links too (origin label)
            try {
                add_peer_links(all, state_path, fed);
            } catch (const Error& e) {
                log::warn_once("peer-links:" + state_path, e.what());
            }
            // Series only for the pairs something is known about: a pair on the federation's
            // defaults says nothing, and every pair of 1,000 sites would be ~9 M series a cycle.
            file::write_atomic(
                *prom_path,
                prometheus_text(fed, current_links(fed, &all, now, LinkPairs::known), &all), 0644);
        } catch (const Error& e) {
            log::warn_once("prom-write:" + *prom_path,
                           std::string("cannot write Prometheus file: ") + e.what());
        }
    }
    return merged;
}

LinkState load_own(const std::string& state_path) {
    std::error_code ec;
    if (!fs::exists(state_path, ec)) return {};
    try {
        return read_link_state(state_path);
    } catch (const Error& e) {
        log::warn("{}; starting with an empty link state", e.what());
        return {};
    }
}

// kill -9 during a write leaves "<state>.tmp.XXXXXX" (or "<state>.peers.tmp.XXXXXX" and
// "<state>.staging.tmp.XXXXXX", the exchange's merge) behind; only this host writes there.
void remove_stale_temps(const std::string& state_path) {
    std::error_code ec;
    const fs::path p(state_path);
    const fs::path dir = p.has_parent_path() ? p.parent_path() : fs::path(".");
    const std::string prefix = p.filename().string() + ".tmp.";
    const std::string peers_prefix =
        fs::path(peer_links_path(state_path)).filename().string() + ".tmp.";
    const std::string staging_prefix =
        fs::path(peer_staging_path(state_path)).filename().string() + ".tmp.";
    const auto cutoff = fs::file_time_type::clock::now() - std::chrono::seconds(60);
    for (const auto& e : fs::directory_iterator(dir, ec)) {
        const std::string name = e.path().filename().string();
        if (name.rfind(prefix, 0) != 0 && name.rfind(peers_prefix, 0) != 0 &&
            name.rfind(staging_prefix, 0) != 0)
            continue;
        std::error_code ec2;
        if (fs::last_write_time(e.path(), ec2) < cutoff && !ec2) fs::remove(e.path(), ec2);
    }
}

std::optional<std::string> prom_path_of(const Federation& fed,
                                        const std::optional<std::string>& override_path) {
    return override_path ? override_path : fed.probing.prometheus_file;
}

}  // namespace

std::vector<ProbeEvent> probe_round(const Federation& fed, const std::string& state_path,
                                    const std::optional<std::string>& prometheus_path,
                                    const std::atomic<bool>* stop) {
    Scheduler sched(fed, stop);
    LinkState st = load_own(state_path);
    std::vector<ProbeEvent> ev;
    try {
        ev = sched.run_due(st, true, now_unix);
    } catch (const ProbeAborted&) {
        save(sched, st, state_path, prom_path_of(fed, prometheus_path));
        throw;
    }
    save(sched, st, state_path, prom_path_of(fed, prometheus_path));
    return ev;
}

int run_service(const ServiceOptions& opt) {
    Federation fed = load_federation(opt.federation_path, probe_url_problem);
    probe_targets(fed);  // fails early when local_site is missing
    auto state_path = [&] { return opt.state_path ? *opt.state_path : fed.probing.state_file; };
    Scheduler sched(fed, opt.stop);
    remove_stale_temps(state_path());
    LinkState st = load_own(state_path());
    log::info(
        "netplace-probed: federation {} ({} sites), local site {}, {} links to probe, state {}",
        fed.name, fed.sites.size(), fed.local_site, probe_targets(fed).size(), state_path());

    auto stopping = [&] { return opt.stop && opt.stop->load(); };

    // The exchange with peer sites runs beside the probes, so a long bandwidth probe never
    // delays it and a slow peer never delays a probe. Both write the state file under its lock.
    std::mutex fed_mu;
    Federation shared_fed = fed;
    std::atomic<bool> exchange_stop{false};
    std::thread exchange([&] {
        run_exchange_loop(
            [&] {
                std::lock_guard<std::mutex> g(fed_mu);
                return shared_fed;
            },
            [&](const Federation& f) {
                return opt.state_path ? *opt.state_path : f.probing.state_file;
            },
            &exchange_stop, opt.staging);
    });
    struct Join {
        std::atomic<bool>& stop;
        std::thread& t;
        ~Join() {
            stop = true;
            if (t.joinable()) t.join();
        }
    } join{exchange_stop, exchange};

    while (!stopping()) {
        if (opt.reload && opt.reload->exchange(false)) {
            try {
                Federation nf = load_federation(opt.federation_path, probe_url_problem);
                probe_targets(nf);
                fed = std::move(nf);
                sched.set_federation(fed);
                {
                    std::lock_guard<std::mutex> g(fed_mu);
                    shared_fed = fed;
                }
                log::info("netplace-probed: reloaded {} ({} sites, {} links to probe)",
                          opt.federation_path, fed.sites.size(), probe_targets(fed).size());
            } catch (const Error& e) {
                log::error("netplace-probed: reload failed, keeping the previous federation: {}",
                           e.what());
            }
        }
        std::vector<ProbeEvent> ev;
        try {
            ev = sched.run_due(st, false, now_unix);
        } catch (const ProbeAborted&) {
            // Shutting down: keep what the finished probes of this cycle learnt; the aborted one
            // is not a link failure and is not recorded.
            try {
                save(sched, st, state_path(), prom_path_of(fed, opt.prometheus_path));
            } catch (const Error& e) {
                log::error("netplace-probed: cannot write the link state: {}", e.what());
            }
            break;
        }
        for (const auto& e : ev) {
            if (opt.on_event) opt.on_event(e);
        }
        if (!ev.empty()) {
            try {
                save(sched, st, state_path(), prom_path_of(fed, opt.prometheus_path));
            } catch (const Error& e) {
                log::error("netplace-probed: cannot write the link state: {}", e.what());
            }
        }
        // Sleep until the next probe is due, waking for signals.
        const double wake = sched.next_due(st, now_unix());
        while (!stopping() && !(opt.reload && opt.reload->load()) && now_unix() < wake) {
            std::this_thread::sleep_for(std::chrono::milliseconds(50));
        }
    }
    log::info("netplace-probed: stopped");
    return 0;
}

namespace {
std::atomic<bool> g_stop{false};
std::atomic<bool> g_reload{false};
extern "C" void on_service_signal(int sig) {
    if (sig == SIGHUP)
        g_reload.store(true);
    else
        g_stop.store(true);
}
}  // namespace

ServiceSignals install_service_signals() {
    struct sigaction sa {};
    sa.sa_handler = on_service_signal;
    sigemptyset(&sa.sa_mask);
    for (int s : {SIGTERM, SIGINT, SIGHUP}) sigaction(s, &sa, nullptr);
    return ServiceSignals{g_stop, g_reload};
}

std::string default_federation_path() {
    if (const char* e = std::getenv("NETPLACE_FEDERATION"); e && *e) return e;
    return std::string(paths::federation_file);
}

std::string federation_option_help() {
    return "federation file (default $NETPLACE_FEDERATION or " +
           std::string(paths::federation_file) + ")";
}

}  // namespace netplace::network
