// `netplace keygen`: a site's Ed25519 key pair for signed snapshots.
// `netplace exchange status|publish|round`: what the exchange with peer sites did, publishing the
// own snapshot by hand, one round in the foreground (benchmarks, first setup checks).
#include "command.hpp"

#include "netplace/core/error.hpp"
#include "netplace/core/units.hpp"
#include "netplace/data/catalog.hpp"
#include "netplace/data/share.hpp"
#include "netplace/network/exchange.hpp"
#include "netplace/network/federation.hpp"
#include "netplace/network/probe.hpp"
#include "netplace/network/service.hpp"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <iostream>

namespace netplace::cli {
namespace {

std::string ago(double now, double t) {
    if (t <= 0) return "-";
    return units::format_duration(std::max(0.0, now - t)) + " ago";
}

}  // namespace

void print_peer_staging(std::ostream& os, const network::PeerStaging& staging,
                        const std::string& error, double now) {
    if (!error.empty()) os << "peers' staging not read: " << error << '\n';
    std::size_t transfers = 0, replicas = 0;
    for (const auto& s : staging.sites) {
        transfers += s.share.transfers.size();
        replicas += s.share.replicas.size();
    }
    os << fmt::format("peers' staging: {} transfer(s), {} replica(s)\n", transfers, replicas);
    for (const auto& s : staging.sites) {
        for (const auto& t : s.share.transfers)
            os << fmt::format(
                "  {:<8} {} {}->{} {} left of {} {} started {:.0f} s ago (origin {}, "
                "snapshot {} old)\n",
                t.state, t.dataset, t.from, t.to, units::format_size(t.bytes_left),
                units::format_size(t.bytes_total), units::format_rate(t.rate_bps), now - t.started,
                s.site, units::format_duration(std::max(0.0, now - s.generated_at)));
        for (const auto& r : s.share.replicas)
            os << fmt::format("  replica  {} at {}: {} (last used {:.0f} s ago, origin {})\n",
                              r.dataset, s.site, units::format_size(r.bytes), now - r.last_used,
                              s.site);
    }
}

namespace {

int cmd_status(const std::string& federation, const std::string& state, bool json) {
    const Federation fed = network::load_federation(federation, network::probe_url_problem);
    const std::string sp = state.empty() ? fed.probing.state_file : state;
    const std::string path = network::exchange_status_path(fed, sp);
    const network::ExchangeStatus st = network::read_exchange_status(path);
    const double now = now_unix();
    // Peers' staging as merged (each entry's origin is the site that published it).
    const std::string staging_path = network::peer_staging_path(sp);
    network::PeerStaging staging;
    std::string staging_error;
    try {
        staging = network::read_peer_staging(staging_path);
    } catch (const std::exception& e) {
        staging_error = e.what();
    }
    if (json) {
        auto j = network::status_to_json(st, now);
        j["status_file"] = path;
        j["staging_file"] = staging_path;
        if (!staging_error.empty()) j["staging_error"] = staging_error;
        j["staging"] = nlohmann::json::parse(network::peer_staging_json(staging))["sites"];
        std::cout << j.dump(1) << '\n';
        return ok;
    }
    if (st.rounds == 0) {
        std::cout << "no exchange round recorded in " << path
                  << " (is netplace-probed running with an `exchange:` section?)\n";
        return ok;
    }
    std::cout << fmt::format(
        "site {} of {}: round {} {} took {:.2f} s, {} bytes{}\n", st.local_site, st.federation,
        st.rounds, ago(now, st.round_at), st.round_s, st.round_bytes,
        st.published_sequence ? fmt::format("; own snapshot {}", *st.published_sequence)
                              : std::string());
    std::cout << fmt::format("{:<12} {:<10} {:<14} {:>16} {:>12} {:>6}  {}\n", "PEER", "VERDICT",
                             "LAST FETCH", "SEQUENCE", "AGE", "LINKS", "URL / REASON");
    for (const auto& p : st.peers) {
        std::cout << fmt::format(
            "{:<12} {:<10} {:<14} {:>16} {:>12} {:>6}  {}\n", p.site, p.verdict,
            ago(now, p.last_fetch), p.sequence,
            p.last_good ? units::format_duration(std::max(0.0, now - p.generated_at)) : "-",
            p.links, p.reason.empty() ? p.url : p.reason + ": " + p.message + " (" + p.url + ")");
    }
    print_peer_staging(std::cout, staging, staging_error, now);
    return ok;
}

Registration keygen_reg(70, [](CLI::App& app) -> std::function<int()> {
    auto* cmd = app.add_subcommand(
        "keygen", "make this site's Ed25519 key pair for signed snapshots (private key 0600)");
    auto out = std::make_shared<std::string>();
    cmd->add_option("--out,-o", *out, "private key file to create (public key: FILE.pub)")
        ->required();
    return [cmd, out]() -> int {
        if (!cmd->parsed()) return -1;
        const auto kp = network::generate_key_pair();
        try {
            network::write_key_pair(*out, kp);
        } catch (const Error& e) {
            std::cerr << "netplace keygen: " << e.what() << '\n';
            return bad_input;
        }
        std::cerr << "netplace keygen: private key " << *out << " (mode 0600), public key " << *out
                  << ".pub\n";
        std::cout << "public_key: " << kp.public_b64
                  << "   # this site's entry in every peer's federation.yaml\n";
        return ok;
    };
});

Registration exchange_reg(71, [](CLI::App& app) -> std::function<int()> {
    auto* ex = app.add_subcommand("exchange", "signed snapshots exchanged with peer sites");
    ex->require_subcommand(1);
    struct Options {
        std::string federation = network::default_federation_path();
        std::string state;
        bool json = false;
        std::string key, out, validity;
        std::uint64_t sequence = 0;
        bool no_merge = false;
        std::string catalog = data::default_catalog_path();
    };
    auto o = std::make_shared<Options>();
    auto common = [o](CLI::App* c) {
        c->add_option("--federation,-f", o->federation, network::federation_option_help());
        c->add_option("--state", o->state, "link-state file (default: probing.state_file)");
    };
    auto catalog = [o](CLI::App* c) {
        c->add_option("--catalog", o->catalog,
                      "dataset catalog whose staging state the snapshot carries (default "
                      "$NETPLACE_CATALOG or /etc/netplace/datasets.yaml; missing: none)");
    };
    auto* status = ex->add_subcommand(
        "status", "per peer: URL, last fetch, verdict (and why), sequence, age, links received");
    common(status);
    status->add_flag("--json", o->json, "JSON output");
    auto* publish = ex->add_subcommand("publish",
                                       "sign and write this site's snapshot now (what the daemon "
                                       "does every round)");
    common(publish);
    catalog(publish);
    publish->add_option("--key", o->key, "private key (default exchange.private_key)");
    publish->add_option("--out", o->out, "output file (default exchange.publish_file)");
    publish->add_option("--validity", o->validity,
                        "validity, e.g. 15m (default exchange.validity)");
    publish->add_option("--sequence", o->sequence, "sequence number (default: the growing rule)");
    auto* round = ex->add_subcommand(
        "round",
        "one exchange round in the foreground: publish, fetch, verify, merge; prints the "
        "status as JSON");
    common(round);
    catalog(round);
    round->add_flag("--no-merge", o->no_merge, "fetch and verify only (benchmarks)");
    return [=]() -> int {
        if (!ex->parsed()) return -1;
        if (status->parsed()) return cmd_status(o->federation, o->state, o->json);
        const Federation fed = network::load_federation(o->federation, network::probe_url_problem);
        const std::string sp = o->state.empty() ? fed.probing.state_file : o->state;
        if (publish->parsed()) {
            network::PublishOptions po;
            po.force = true;
            po.staging = data::staging_source(o->catalog);
            if (!o->key.empty()) po.key_path = o->key;
            if (!o->out.empty()) po.out_path = o->out;
            if (o->sequence) po.sequence = o->sequence;
            try {
                if (!o->validity.empty()) po.validity_s = units::parse_duration_s(o->validity);
                if (!po.key_path && !fed.exchange.private_key)
                    throw Error("no key: set exchange.private_key or give --key");
                if (!po.out_path && !fed.exchange.publish_file)
                    throw Error("no output: set exchange.publish_file or give --out");
                const auto seq = network::publish_own_snapshot(fed, sp, now_unix(), po);
                std::cout << "published sequence " << seq.value_or(0) << '\n';
            } catch (const Error& e) {
                std::cerr << "netplace exchange publish: " << e.what() << '\n';
                return bad_input;
            }
            return ok;
        }
        network::RoundOptions ro;
        ro.merge = !o->no_merge;
        ro.staging = data::staging_source(o->catalog);
        ro.stop = &network::install_service_signals().stop;
        const auto prev = network::read_exchange_status(network::exchange_status_path(fed, sp));
        const auto st = network::exchange_round(fed, sp, prev, ro);
        std::cout << network::status_to_json(st, now_unix()).dump(1) << '\n';
        for (const auto& p : st.peers)
            if (p.verdict == "rejected") return failure;
        return ok;
    };
});

}  // namespace
}  // namespace netplace::cli
