// How fast do submission paths read the link view? current_links() runs on every placement
// decision (CLI, Slurm cli_filter, simulator): read + parse the state file, then one estimate per
// ordered site pair.
#include "netplace/network/federation.hpp"
#include "netplace/network/link_state.hpp"
#include "netplace/network/peer_links.hpp"

#include <benchmark/benchmark.h>

#include <unistd.h>

#include <cmath>
#include <string>

using namespace netplace;

namespace {

Federation make_federation(int n) {
    std::string y = "federation: bench\nlocal_site: s0\nsites:\n";
    for (int i = 0; i < n; ++i) y += "  - {name: s" + std::to_string(i) + "}\n";
    return network::load_federation_string(y, "bench.yaml");
}

// `links` directed links with full records (5 recent samples each), as the daemon writes them.
std::string make_state(int n, bool full_matrix) {
    network::LinkState st;
    st.federation = "bench";
    for (int a = 0; a < n; ++a) {
        for (int b = 0; b < n; ++b) {
            if (a == b || (!full_matrix && b != 0)) continue;
            auto& r = st.get_or_add("s" + std::to_string(a), "s" + std::to_string(b));
            r.bandwidth_bps = 1e9 + a;
            r.latency_s = 0.01;
            r.jitter_s = 0.0001;
            r.usual_bandwidth_bps = 1e9;
            r.health = LinkHealth::up;
            r.samples = 42;
            r.last_success = 1e9;
            r.last_attempt = 1e9;
            r.recent_bps = {1e9, 1.1e9, 0.9e9, 1e9, 1e9};
            r.recent_latency_s = {0.01, 0.011, 0.01, 0.012, 0.01};
            r.next_bandwidth_due = 1e9 + 600;
            r.next_latency_due = 1e9 + 60;
        }
    }
    const std::string path = "/tmp/netplace-bench-links-" + std::to_string(::getpid()) + "-" +
                             std::to_string(n) + (full_matrix ? "-full" : "-local") + ".json";
    network::write_link_state(path, st);
    return path;
}

// A site's own view: N sites, the N-1 links into the local site measured; all N(N-1) estimates.
void BM_current_links_local_view(benchmark::State& state) {
    const int n = static_cast<int>(state.range(0));
    const Federation fed = make_federation(n);
    const std::string path = make_state(n, false);
    for (auto _ : state) benchmark::DoNotOptimize(network::current_links(fed, path, 1e9 + 10));
    state.counters["links_in_file"] = n - 1;
    state.counters["estimates"] = static_cast<double>(n) * (n - 1);
    ::unlink(path.c_str());
}
BENCHMARK(BM_current_links_local_view)->Arg(10)->Arg(100)->Arg(1000)->Unit(benchmark::kMillisecond);

// The same own state plus what the signed exchange merged: every other site's links into itself,
// measured by that site, in the peers file (9,801 rows at 100 sites). Issue 12's decision-path
// figure: compare with BM_current_links_local_view of this binary and of the code before the
// exchange existed (042af13^, whose bench has the same local_view case over the same state).
// What the exchange merges beside the own state at `path`: every other site's links into itself,
// measured by that site (n-1 rows per peer); returns the peers file's path.
std::string make_peers(int n, const std::string& path) {
    network::PeerLinks peers;
    for (int i = 0; i < n; ++i) peers.sites.push_back("s" + std::to_string(i));
    for (int b = 1; b < n; ++b) {
        for (int a = 0; a < n; ++a) {
            if (a == b) continue;
            network::PeerLinkRow r{};
            r.from = static_cast<std::uint32_t>(a);
            r.to = static_cast<std::uint32_t>(b);
            r.samples = 42;
            r.health = static_cast<std::uint8_t>(LinkHealth::up);
            r.source = 0;  // "probe"
            r.bandwidth_bps = 1e9 + a;
            r.latency_s = 0.01;
            r.jitter_s = 0.0001;
            r.last_success = 1e9;
            r.received_at = 1e9;
            peers.rows.push_back(r);
        }
    }
    const std::string peers_path = network::peer_links_path(path);
    network::write_peer_links(peers_path, peers);
    return peers_path;
}

void BM_current_links_merged_view(benchmark::State& state) {
    const int n = static_cast<int>(state.range(0));
    const Federation fed = make_federation(n);
    const std::string path = make_state(n, false);
    const std::string peers_path = make_peers(n, path);
    // Timed exactly like the local view (the result built and freed per call).
    for (auto _ : state) benchmark::DoNotOptimize(network::current_links(fed, path, 1e9 + 10));
    std::size_t measured = 0;
    for (const auto& e : network::current_links(fed, path, 1e9 + 10)) measured += e.measured;
    state.counters["measured"] = static_cast<double>(measured);
    state.counters["estimates"] = static_cast<double>(n) * (n - 1);
    ::unlink(peers_path.c_str());
    ::unlink(path.c_str());
}
BENCHMARK(BM_current_links_merged_view)
    ->Arg(10)
    ->Arg(100)
    ->Arg(1000)
    ->Unit(benchmark::kMillisecond);

// What placement reads (load_inputs): only the known pairs (LinkPairs::known), the rest standing
// for the federation's defaults. Arg 0 = sites; arg 1 = 1 with the peers file merged. Own links
// only: n-1 estimates instead of n(n-1), so 10,000 sites (10^8 pairs) cost what the file does.
void BM_current_links_known(benchmark::State& state) {
    const int n = static_cast<int>(state.range(0));
    const Federation fed = make_federation(n);
    const std::string path = make_state(n, false);
    const std::string peers_path = state.range(1) ? make_peers(n, path) : std::string();
    std::size_t estimates = 0;
    for (auto _ : state) {
        const auto e =
            network::current_links(fed, path, 1e9 + 10, nullptr, network::LinkPairs::known);
        estimates = e.size();
        benchmark::DoNotOptimize(e);
    }
    state.counters["estimates"] = static_cast<double>(estimates);
    if (!peers_path.empty()) ::unlink(peers_path.c_str());
    ::unlink(path.c_str());
}
BENCHMARK(BM_current_links_known)
    ->Args({100, 0})
    ->Args({100, 1})
    ->Args({1000, 0})
    ->Args({10000, 0})
    ->Unit(benchmark::kMillisecond);

// A merged view: every ordered pair measured (importers, several daemons' files merged).
void BM_current_links_full_matrix(benchmark::State& state) {
    const int n = static_cast<int>(state.range(0));
    const Federation fed = make_federation(n);
    const std::string path = make_state(n, true);
    for (auto _ : state) benchmark::DoNotOptimize(network::current_links(fed, path, 1e9 + 10));
    state.counters["links_in_file"] = static_cast<double>(n) * (n - 1);
    ::unlink(path.c_str());
}
BENCHMARK(BM_current_links_full_matrix)->Arg(10)->Arg(32)->Arg(100)->Unit(benchmark::kMillisecond);

// Only reading and parsing the file (1000 links).
void BM_read_link_state_1000_links(benchmark::State& state) {
    const std::string path = make_state(1001, false);
    for (auto _ : state) benchmark::DoNotOptimize(network::read_link_state(path));
    ::unlink(path.c_str());
}
BENCHMARK(BM_read_link_state_1000_links)->Unit(benchmark::kMillisecond);

// The same file through the hot-path reader current_links() uses (skips writer bookkeeping).
void BM_read_link_state_for_estimates_1000_links(benchmark::State& state) {
    const std::string path = make_state(1001, false);
    for (auto _ : state) benchmark::DoNotOptimize(network::read_link_state_for_estimates(path));
    ::unlink(path.c_str());
}
BENCHMARK(BM_read_link_state_for_estimates_1000_links)->Unit(benchmark::kMillisecond);

// The fallback path: a missing file (static figures only).
void BM_current_links_missing_file(benchmark::State& state) {
    const Federation fed = make_federation(100);
    for (auto _ : state)
        benchmark::DoNotOptimize(network::current_links(fed, "/nonexistent/links.json", 1e9));
}
BENCHMARK(BM_current_links_missing_file)->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
