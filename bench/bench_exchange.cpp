// The signed exchange between sites at scale: verifying a 1,000-link snapshot, merging N peers'
// snapshots into the state file, and what the merge does to the decision path (current_links
// over the merged N-site state vs a site's own-only state).
//
//   bench_exchange                       Google Benchmark cases (below)
//   bench_exchange ratio [N...]          current_links on the merged N-site state (own file +
//                                        peers file) against the same call on the own-only state
//                                        of the same binary (default N: 100 1000); prints the
//                                        figures, exit 1 when a ratio is above 1.2. Stricter than
//                                        the target, which compares with the own-only call
//                                        before the exchange existed (bench_network_state's
//                                        local_view vs merged_view, docs/network.md)
//   bench_exchange gen DIR PEERS PORT    writes DIR/fed.yaml (local site s0 + PEERS peers whose
//                                        snapshots are http://127.0.0.1:PORT/snap/sI.json), their
//                                        keys and signed snapshots (each with all its incoming
//                                        links) under DIR/www/snap/; run again for "all changed"
//   (bench/netns/exchange_round.sh serves them with nginx and times `netplace exchange round`)
#include "netplace/core/file.hpp"
#include "netplace/network/exchange.hpp"
#include "netplace/network/federation.hpp"
#include "netplace/network/link_state.hpp"
#include "netplace/network/peer_links.hpp"

#include <benchmark/benchmark.h>

#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <string>

using namespace netplace;
using namespace netplace::network;
namespace fs = std::filesystem;

namespace {

double now_s() {
    return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch())
        .count();
}

LinkRecord record(int from, int to, double now) {
    LinkRecord r;
    r.from = "s" + std::to_string(from);
    r.to = "s" + std::to_string(to);
    r.bandwidth_bps = 1e9 + from * 1000.0 + to;
    r.latency_s = 0.01 + from * 1e-6;
    r.jitter_s = 0.0001;
    r.usual_bandwidth_bps = 1e9;
    r.health = LinkHealth::up;
    r.samples = 42;
    r.last_success = now - 30;
    r.last_attempt = now - 30;
    return r;
}

Snapshot snapshot_of(int site, int n, double now, std::uint64_t seq) {
    Snapshot s;
    s.federation = "bench";
    s.site = "s" + std::to_string(site);
    s.sequence = seq;
    s.generated_at = now;
    s.expires_at = now + 3600;
    for (int j = 0; j < n; ++j)
        if (j != site) s.links.push_back(record(j, site, now));
    s.load = nlohmann::json{{"site", s.site},
                            {"nodes_total", 100},
                            {"jobs_pending", site % 17},
                            {"collected_unix_s", now}};
    return s;
}

// Federation text: n sites; with keys (base64) and snapshot URLs when given.
std::string federation_text(int n, const std::vector<std::string>& keys, int port,
                            const std::string& dir) {
    std::string y = "federation: bench\nlocal_site: s0\nsites:\n";
    for (int i = 0; i < n; ++i) {
        y += "  - {name: s" + std::to_string(i);
        if (!keys.empty()) y += ", public_key: " + keys[i];
        if (port && i > 0)
            y += ", snapshot: http://127.0.0.1:" + std::to_string(port) + "/snap/s" +
                 std::to_string(i) + ".json";
        y += "}\n";
    }
    if (!dir.empty()) {
        y += "probing: {state_file: " + dir + "/links.json}\n";
        y += "exchange: {status_file: " + dir + "/exchange.json, interval: 1m, validity: 1h, " +
             "timeout: 10s, max_bytes: 4MiB, parallel: 64}\n";
    }
    return y;
}

int gen(const std::string& dir, int peers, int port) {
    const int n = peers + 1;
    fs::create_directories(dir + "/keys");
    fs::create_directories(dir + "/www/snap");
    std::vector<std::string> pubs(n);
    std::vector<SigningKey> keys(n);
    for (int i = 0; i < n; ++i) {
        const std::string path = dir + "/keys/s" + std::to_string(i) + ".key";
        if (!fs::exists(path)) write_key_pair(path, generate_key_pair());
        keys[i] = load_signing_key(path);
        pubs[i] = keys[i].public_b64;
    }
    file::write_atomic(dir + "/fed.yaml", federation_text(n, pubs, port, dir));
    const double now = now_s();
    std::uint64_t bytes = 0;
    for (int i = 1; i < n; ++i) {
        const std::string body =
            sign_snapshot(snapshot_of(i, n, now, static_cast<std::uint64_t>(now * 1000)), keys[i]);
        bytes += body.size();
        file::write_atomic(dir + "/www/snap/s" + std::to_string(i) + ".json", body);
    }
    std::cout << "generated " << peers << " snapshots, " << bytes / peers << " bytes each\n";
    return 0;
}

void BM_verify_snapshot(benchmark::State& state) {
    const int n = static_cast<int>(state.range(0));
    const KeyPair kp = generate_key_pair();
    const std::string dir = "/tmp/netplace-bench-ex-" + std::to_string(::getpid());
    fs::create_directories(dir);
    write_key_pair(dir + "/k", kp);
    const SigningKey key = load_signing_key(dir + "/k");
    std::vector<std::string> keys(n, kp.public_b64);
    const Federation fed = load_federation_string(federation_text(n, keys, 0, ""), "bench.yaml");
    const double now = now_s();
    const std::string body = sign_snapshot(snapshot_of(1, n, now, 1), key);
    for (auto _ : state) benchmark::DoNotOptimize(verify_snapshot(body, fed, "s1", now, 0));
    state.counters["links"] = n - 1;
    state.counters["bytes"] = static_cast<double>(body.size());
    fs::remove_all(dir);
}
BENCHMARK(BM_verify_snapshot)->Arg(100)->Arg(1000)->Unit(benchmark::kMillisecond);

// Merging every peer's snapshot (all changed) into the local peers file ("<state>.peers").
void BM_merge(benchmark::State& state) {
    const int n = static_cast<int>(state.range(0));
    const Federation fed = load_federation_string(federation_text(n, {}, 0, ""), "bench.yaml");
    const double now = now_s();
    std::vector<Snapshot> snaps;
    for (int i = 1; i < n; ++i) snaps.push_back(snapshot_of(i, n, now, 1));
    const std::string path = "/tmp/netplace-bench-merge-" + std::to_string(::getpid()) + ".json";
    const std::string peers = peer_links_path(path);
    for (auto _ : state) merge_snapshots(fed, path, snaps, now);
    state.counters["links"] = static_cast<double>(n - 1) * (n - 1);
    state.counters["file_MB"] = static_cast<double>(fs::file_size(peers)) / 1e6;
    ::unlink(peers.c_str());
    ::unlink((peers + ".lock").c_str());
}
BENCHMARK(BM_merge)->Arg(100)->Arg(300)->Arg(1000)->Unit(benchmark::kMillisecond)->Iterations(3);

// Decision path: current_links from the files, own-only state (N-1 links into s0) vs merged
// (own + every peer's N-1 links into itself, in the peers file = N(N-1)).
struct StateFiles {
    std::string path;
    ~StateFiles() {
        for (const auto& p :
             {path, path + ".lock", peer_links_path(path), peer_links_path(path) + ".lock"})
            ::unlink(p.c_str());
    }
    double megabytes() const {
        std::error_code ec;
        const auto peers = fs::file_size(peer_links_path(path), ec);
        return static_cast<double>(fs::file_size(path) + (ec ? 0 : peers)) / 1e6;
    }
};

void make_state(const StateFiles& f, const Federation& fed, int n, bool merged, double now) {
    LinkState st;
    st.federation = "bench";
    for (int j = 1; j < n; ++j) st.links.push_back(record(j, 0, now));
    write_link_state(f.path, st);
    if (!merged) return;
    for (int first = 1; first < n; first += 100) {  // in batches: less memory than all at once
        std::vector<Snapshot> snaps;
        for (int i = first; i < std::min(n, first + 100); ++i)
            snaps.push_back(snapshot_of(i, n, now, 1));
        merge_snapshots(fed, f.path, snaps, now);
    }
}

void current_links_file(benchmark::State& state, bool merged) {
    const int n = static_cast<int>(state.range(0));
    const Federation fed = load_federation_string(federation_text(n, {}, 0, ""), "bench.yaml");
    const double now = now_s();
    const StateFiles f{"/tmp/netplace-bench-cl-" + std::to_string(::getpid()) + ".json"};
    make_state(f, fed, n, merged, now);
    std::size_t measured = 0;
    for (auto _ : state) {
        const auto est = current_links(fed, f.path, now);
        measured = 0;
        for (const auto& e : est) measured += e.measured;
        benchmark::DoNotOptimize(measured);
    }
    state.counters["measured"] = static_cast<double>(measured);
    state.counters["file_MB"] = f.megabytes();
}
void BM_current_links_own_only(benchmark::State& s) { current_links_file(s, false); }
void BM_current_links_merged(benchmark::State& s) { current_links_file(s, true); }
BENCHMARK(BM_current_links_own_only)->Arg(100)->Arg(300)->Arg(1000)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_current_links_merged)->Arg(100)->Arg(300)->Arg(1000)->Unit(benchmark::kMillisecond);

// The check, as a program: wall time of current_links (read both files, build every
// estimate) on the merged state vs the own-only state, best of `runs` alternating calls each (the
// best is the least disturbed by other load on a shared host).
int ratio(const std::vector<int>& sizes) {
    constexpr int runs = 7;
    int rc = 0;
    std::cout
        << "| sites | own-only ms | merged ms | ratio | merged files MB |\n|---|---|---|---|---|\n";
    for (const int n : sizes) {
        const Federation fed = load_federation_string(federation_text(n, {}, 0, ""), "bench.yaml");
        const double now = now_s();
        const std::string base = "/tmp/netplace-bench-ratio-" + std::to_string(::getpid());
        const StateFiles own{base + "-own.json"}, merged{base + "-merged.json"};
        make_state(own, fed, n, false, now);
        make_state(merged, fed, n, true, now);
        double best_own = 1e9, best_merged = 1e9;
        std::size_t measured_own = 0, measured_merged = 0;
        auto timed = [&](const StateFiles& f, double& best, std::size_t& measured) {
            const auto t0 = std::chrono::steady_clock::now();
            const auto est = current_links(fed, f.path, now);
            best = std::min(best, std::chrono::duration<double, std::milli>(
                                      std::chrono::steady_clock::now() - t0)
                                      .count());
            measured = 0;
            for (const auto& e : est) measured += e.measured;
        };
        for (int r = 0; r < runs; ++r) {
            timed(own, best_own, measured_own);
            timed(merged, best_merged, measured_merged);
        }
        const double q = best_merged / best_own;
        std::cout << "| " << n << " | " << best_own << " | " << best_merged << " | " << q << " | "
                  << merged.megabytes() << " |\n";
        if (measured_own != static_cast<std::size_t>(n - 1) ||
            measured_merged != static_cast<std::size_t>(n) * (n - 1)) {
            std::cout << "  measured links: own " << measured_own << ", merged " << measured_merged
                      << ": the states are not what they should be\n";
            rc = 1;
        }
        if (q > 1.2) {
            std::cout << "  ratio " << q << " > 1.2 at " << n << " sites\n";
            rc = 1;
        }
    }
    return rc;
}

// The same on in-memory 1,000-site states (no file): own-only vs merged as LinkRecords (what
// `probe show` and the daemon's metrics build with add_peer_links).
void BM_current_links_in_memory(benchmark::State& state) {
    const int n = static_cast<int>(state.range(0));
    const bool merged = state.range(1) != 0;
    const Federation fed = load_federation_string(federation_text(n, {}, 0, ""), "bench.yaml");
    const double now = now_s();
    LinkState st;
    for (int i = 0; i < n; ++i)
        for (int j = 0; j < n; ++j)
            if (i != j && (merged || j == 0)) st.links.push_back(record(i, j, now));
    for (auto _ : state) benchmark::DoNotOptimize(current_links(fed, &st, now));
    state.counters["records"] = static_cast<double>(st.links.size());
}
BENCHMARK(BM_current_links_in_memory)
    ->Args({1000, 0})
    ->Args({1000, 1})
    ->Unit(benchmark::kMillisecond);

}  // namespace

int main(int argc, char** argv) {
    if (argc >= 2 && std::string(argv[1]) == "gen") {
        if (argc != 5) {
            std::cerr << "usage: bench_exchange gen DIR PEERS PORT\n";
            return 2;
        }
        return gen(argv[2], std::atoi(argv[3]), std::atoi(argv[4]));
    }
    if (argc >= 2 && std::string(argv[1]) == "ratio") {
        std::vector<int> sizes;
        for (int i = 2; i < argc; ++i) sizes.push_back(std::atoi(argv[i]));
        if (sizes.empty()) sizes = {100, 1000};
        return ratio(sizes);
    }
    benchmark::Initialize(&argc, argv);
    benchmark::RunSpecifiedBenchmarks();
    return 0;
}
