// `netplace probe`: one-shot endpoint probes, probe rounds, the link view, and imports.
#include "command.hpp"

#include "netplace/core/error.hpp"
#include "netplace/core/file.hpp"
#include "netplace/core/log.hpp"
#include "netplace/core/units.hpp"
#include "netplace/network/exporters.hpp"
#include "netplace/network/federation.hpp"
#include "netplace/network/importers.hpp"
#include "netplace/network/peer_links.hpp"
#include "netplace/network/probe.hpp"
#include "netplace/network/service.hpp"

#include <nlohmann/json.hpp>

#include <atomic>
#include <csignal>
#include <cstdlib>
#include <iostream>

namespace netplace::cli {
namespace {

struct Common {
    std::string federation = network::default_federation_path();
    std::string state;
    void add(CLI::App* c) {
        c->add_option("--federation,-f", federation, network::federation_option_help());
        c->add_option("--state", state,
                      "link-state file (default: probing.state_file of the federation)");
    }
    std::string state_path(const Federation& fed) const {
        return state.empty() ? fed.probing.state_file : state;
    }
};

int cmd_url(const std::string& url, unsigned streams, const std::string& max_bytes, bool json,
            double timeout, double connect_timeout, const std::string& cacert, unsigned samples) {
    network::ProbeOptions opt;
    opt.streams = streams;
    opt.latency_samples = samples;
    opt.timeout_s = timeout;
    opt.connect_timeout_s = connect_timeout;
    if (!cacert.empty()) opt.ca_file = cacert;
    opt.abort = &network::install_service_signals().stop;
    try {
        opt.max_bytes = units::parse_size(max_bytes);
        if (opt.max_bytes < 64 * 1024) throw Error("--max-bytes must be at least 64KiB");
    } catch (const Error& e) {
        if (json)
            std::cout << nlohmann::json{{"url", url}, {"error", e.message()}}.dump() << '\n';
        else
            std::cerr << "netplace probe url: " << e.message() << '\n';
        return bad_input;
    }
    try {
        const auto lat = network::probe_latency(url, opt);
        const auto bw = network::probe_bandwidth(url, opt);
        if (json) {
            std::cout << nlohmann::json{{"url", url},
                                        {"rtt_ms", lat.rtt_median_s * 1e3},
                                        {"jitter_ms", lat.jitter_s * 1e3},
                                        {"bandwidth_bps", bw.bandwidth_bps},
                                        {"bytes", bw.bytes + lat.bytes},
                                        {"seconds", bw.seconds},
                                        {"stable", bw.stable},
                                        {"streams", streams}}
                             .dump()
                      << '\n';
        } else {
            std::cout << url << ": " << units::format_rate(bw.bandwidth_bps) << ", rtt "
                      << units::format_duration(lat.rtt_median_s) << " (jitter "
                      << units::format_duration(lat.jitter_s) << "), "
                      << units::format_size(bw.bytes + lat.bytes) << " in "
                      << units::format_duration(bw.seconds)
                      << (bw.stable ? "" : " (stopped at the byte cap or the timeout)") << '\n';
        }
        return ok;
    } catch (const Error& e) {
        if (json)
            std::cout << nlohmann::json{{"url", url}, {"error", e.message()}}.dump() << '\n';
        else
            std::cerr << "netplace probe url: " << e.message() << '\n';
        return bad_input;  // the documented contract: exit 2 when the probe fails
    }
}

int cmd_run(const Common& c, bool once, const std::string& prom) {
    const network::ServiceSignals signals = network::install_service_signals();
    if (once) {
        const Federation fed = network::load_federation(c.federation, network::probe_url_problem);
        std::vector<network::ProbeEvent> ev;
        try {
            ev = network::probe_round(
                fed, c.state_path(fed),
                prom.empty() ? std::nullopt : std::optional<std::string>(prom), &signals.stop);
        } catch (const network::ProbeAborted&) {
            std::cerr << "netplace probe run: interrupted; finished probes were saved to "
                      << c.state_path(fed) << '\n';
            return failure;
        }
        bool all_ok = true;
        for (const auto& e : ev) {
            std::cout << e.from << " -> " << e.to << " " << e.kind << ": "
                      << (e.ok ? "" : "FAILED: ") << e.detail << '\n';
            all_ok = all_ok && e.ok;
        }
        if (ev.empty()) std::cout << "no remote site has a probe URL: nothing to probe\n";
        return all_ok ? ok : failure;
    }
    network::ServiceOptions so;
    so.federation_path = c.federation;
    if (!c.state.empty()) so.state_path = c.state;
    if (!prom.empty()) so.prometheus_path = prom;
    so.stop = &signals.stop;
    so.reload = &signals.reload;
    so.on_event = [](const network::ProbeEvent& e) {
        std::cout << e.from << " -> " << e.to << " " << e.kind << ": " << (e.ok ? "" : "FAILED: ")
                  << e.detail << std::endl;
    };
    return network::run_service(so);
}

int cmd_show(const Common& c, bool json, bool prometheus, bool strict) {
    const Federation fed = network::load_federation(c.federation, network::probe_url_problem);
    const std::string path = c.state_path(fed);
    std::optional<network::LinkState> st;
    std::optional<std::string> err;
    try {
        st = network::read_link_state(path);
    } catch (const Error& e) {
        err = e.message();
    }
    try {  // the links merged from peers' signed snapshots (ORIGIN column)
        network::LinkState all = st ? *st : network::LinkState{};
        network::add_peer_links(all, path, fed);
        if (st || !all.links.empty()) st = std::move(all);
    } catch (const Error& e) {
        err = err ? *err + "; " + e.message() : e.message();
    }
    if (strict && err) {
        std::cerr << "netplace probe show: " << *err << '\n';
        return failure;
    }
    const double now = now_unix();
    // The table and JSON show every pair (a pair on defaults says "nothing measured yet"); the
    // Prometheus text, like the daemon's textfile, only the pairs something is known about.
    const auto pairs = prometheus ? network::LinkPairs::known : network::LinkPairs::every;
    const auto est = network::current_links(fed, st ? &*st : nullptr, now, pairs);
    const network::LinkState* sp = st ? &*st : nullptr;
    if (json) {
        std::cout << network::links_json(fed, est, sp, path, err).dump(1) << '\n';
    } else if (prometheus) {
        std::cout << network::prometheus_text(fed, est, sp);
    } else {
        if (err) std::cout << "# link state unusable (" << *err << "): static figures shown\n";
        std::cout << network::links_table(est, sp);
    }
    return ok;
}

int cmd_import(const Common& c, const std::string& kind, const std::string& input,
               const std::string& from, const std::string& to, const std::string& at_text,
               const std::vector<std::string>& column_specs) {
    network::CsvColumns columns;
    for (const auto& spec : column_specs) network::choose_column(columns, spec);
    if (!column_specs.empty() && kind != "csv")
        throw ConfigError("--column applies to csv imports (" + kind +
                          " output has fixed fields: the ones used are listed)");
    const Federation fed = network::load_federation(c.federation, network::probe_url_problem);
    const std::string text = file::read_all(input, limits::Cap::import_file);
    double at = now_unix();
    if (!at_text.empty()) {
        try {
            at = std::stod(at_text);
        } catch (const std::exception&) {
            throw Error("--at must be Unix seconds, not '" + at_text + "'");
        }
    }
    auto need_pair = [&] {
        if (from.empty() || to.empty())
            throw Error(kind + " import needs --from SITE --to SITE (data flows from -> to)");
        for (const auto* s : {&from, &to})
            if (!fed.find(*s)) throw Error("'" + *s + "' is not a site of federation " + fed.name);
    };
    network::ImportResult r;
    if (kind == "iperf3") {
        need_pair();
        r = network::import_iperf3(text, input, from, to);
    } else if (kind == "pscheduler") {
        need_pair();
        r = network::import_pscheduler(text, input, from, to, at);
    } else {
        r = network::import_csv(text, input, fed, at, columns);
    }
    network::update_link_state(
        c.state_path(fed),
        [&](network::LinkState& st) {
            if (st.federation.empty()) st.federation = fed.name;
            network::apply_imports(st, r, fed.probing);
        },
        now_unix());
    // Which field fed which figure, before the figures: a grid with both sent and received rates
    // differs by a median 1.33x between the two (docs/network.md).
    for (const auto& col : r.columns) std::cout << "column " << col << '\n';
    for (const auto& s : r.samples) {
        std::cout << "imported " << s.from << " -> " << s.to;
        if (s.sample.bandwidth_bps) std::cout << " " << units::format_rate(*s.sample.bandwidth_bps);
        if (s.sample.latency_s) std::cout << " rtt " << units::format_duration(*s.sample.latency_s);
        std::cout << '\n';
    }
    for (const auto& n : r.notes) std::cout << "note: " << n << '\n';
    std::cout << r.samples.size() << " link(s) imported into " << c.state_path(fed) << '\n';
    return r.samples.empty() ? failure : ok;
}

Registration reg(20, [](CLI::App& app) -> std::function<int()> {
    auto* probe =
        app.add_subcommand("probe", "measure inter-site links and show what is known about them");
    probe->require_subcommand(1);

    struct Opts {
        std::string url, max_bytes = "64MiB", cacert;
        unsigned streams = 4, samples = 5;
        double timeout = 30, connect_timeout = 5;
        bool json = false, once = false, prometheus = false, strict = false;
        Common common;
        std::string prom, kind, input, from, to, at;
        std::vector<std::string> columns;
    };
    auto o = std::make_shared<Opts>();

    auto* url =
        probe->add_subcommand("url", "one-shot probe of one endpoint (like an iperf client)");
    url->add_option("URL", o->url, "http(s) URL of a large file served with byte ranges")
        ->required();
    url->add_option("--streams,-P", o->streams, "parallel streams (default 4)")
        ->check(CLI::Range(1, 64));
    url->add_option("--max-bytes", o->max_bytes, "byte cap (default 64MiB)");
    url->add_option("--samples", o->samples, "latency requests (default 5)")
        ->check(CLI::Range(1, 100));
    url->add_option("--timeout", o->timeout, "total seconds per transfer (default 30)")
        ->check(CLI::PositiveNumber);
    url->add_option("--connect-timeout", o->connect_timeout, "seconds (default 5)")
        ->check(CLI::PositiveNumber);
    url->add_option("--cacert", o->cacert, "CA bundle for HTTPS endpoints");
    url->add_flag("--json", o->json, "print {url, rtt_ms, bandwidth_bps, bytes, seconds}");

    auto* run =
        probe->add_subcommand("run", "probe the links towards the local site (loop, or --once)");
    o->common.add(run);
    run->add_flag("--once", o->once,
                  "probe every link once now, write the state, exit (1 if any probe failed)");
    run->add_option("--prometheus", o->prom, "also write a Prometheus textfile here");

    auto* show =
        probe->add_subcommand("show", "current link estimates (measured, static or default)");
    o->common.add(show);
    show->add_flag("--json", o->json, "JSON output");
    show->add_flag("--prometheus", o->prometheus, "Prometheus text format");
    show->add_flag("--strict", o->strict, "exit 1 when the state file is missing or unreadable");

    auto* imp =
        probe->add_subcommand("import", "import iperf3 -J, pScheduler or CSV-matrix measurements");
    o->common.add(imp);
    imp->add_option("KIND", o->kind, "iperf3 | pscheduler | csv")
        ->required()
        ->check(CLI::IsMember({"iperf3", "pscheduler", "csv"}));
    imp->add_option("FILE", o->input, "input file")->required();
    imp->add_option("--from", o->from, "site data flowed from (iperf3, pscheduler)");
    imp->add_option("--to", o->to, "site data flowed to (iperf3, pscheduler)");
    imp->add_option("--at", o->at, "measurement time, Unix seconds (pscheduler, csv; default now)");
    imp->add_option("--column", o->columns,
                    "csv: ROLE=COLUMN takes ROLE (from, to, bandwidth, latency, jitter, success) "
                    "from that column instead of the recognised headers; repeatable");

    return [o, url, run, show, imp]() -> int {
        if (url->parsed())
            return cmd_url(o->url, o->streams, o->max_bytes, o->json, o->timeout,
                           o->connect_timeout, o->cacert, o->samples);
        if (run->parsed()) return cmd_run(o->common, o->once, o->prom);
        if (show->parsed()) return cmd_show(o->common, o->json, o->prometheus, o->strict);
        if (imp->parsed())
            return cmd_import(o->common, o->kind, o->input, o->from, o->to, o->at, o->columns);
        return bad_input;
    };
});

}  // namespace
}  // namespace netplace::cli
