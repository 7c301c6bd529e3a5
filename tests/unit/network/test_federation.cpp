#include "netplace/core/error.hpp"
#include "netplace/network/federation.hpp"
#include "netplace/network/probe.hpp"

#include <catch2/catch.hpp>

#include <string>

using namespace netplace;
using netplace::network::load_federation;
using netplace::network::load_federation_string;

namespace {
const char* kMinimal = R"(federation: demo
local_site: alpha
sites:
  - name: alpha
  - name: beta
    cluster: beta-cl
    probe: http://10.0.0.2:8080/p.bin
)";
}

TEST_CASE("the shipped etc/federation.yaml loads with the documented values",
          "[network][federation]") {
    const Federation f = load_federation(std::string(NETPLACE_SOURCE_DIR) + "/etc/federation.yaml");
    CHECK(f.name == "demo");
    CHECK(f.local_site == "alpha");
    REQUIRE(f.sites.size() == 3);
    CHECK(f.sites[0].name == "alpha");
    CHECK(f.sites[1].cluster == "beta");
    CHECK(f.sites[2].cluster == "gamma");
    CHECK(f.sites[0].probe_urls ==
          std::vector<std::string>{"http://10.200.1.2:8080/netplace/probe.bin"});
    CHECK(f.sites[0].capacity.memory_bytes == 4ull << 40);  // 4T: binary, Slurm's convention
    CHECK(f.sites[0].capacity.gpus.at("a100") == 64);
    CHECK(f.sites[0].static_wait_s == Approx(600));
    CHECK(f.sites[0].regions == std::vector<std::string>{"aws:us-east-1"});
    CHECK(f.default_bandwidth_bps == Approx(1e9));
    CHECK(f.default_latency_s == Approx(0.020));
    REQUIRE(f.links.size() == 3);
    CHECK(f.links[0].from == "beta");
    CHECK(*f.links[0].bandwidth_bps == Approx(10e9));
    CHECK(*f.links[0].latency_s == Approx(0.012));
    CHECK(f.probing.max_bytes == 64ull << 20);
    CHECK(f.probing.daily_budget_bytes == 4ull << 30);
    CHECK(f.probing.low_speed_bps == Approx(8000));
    CHECK(f.probing.prometheus_file ==
          std::string("/var/lib/prometheus/node-exporter/netplace.prom"));
}

TEST_CASE("federation defaults: cluster = name, no links, default probing",
          "[network][federation]") {
    const Federation f = load_federation_string(kMinimal, "m.yaml");
    CHECK(f.sites[0].cluster == "alpha");
    CHECK(f.sites[1].cluster == "beta-cl");
    CHECK(f.find_cluster("beta-cl") == &f.sites[1]);
    CHECK(f.links.empty());
    CHECK(f.probing.streams == 4);
    const auto fig = network::static_figures(f, "alpha", "beta");
    CHECK(*fig.bandwidth_bps == Approx(1e9));
    CHECK(*network::static_figures(f, "alpha", "alpha").bandwidth_bps == Approx(100e9));
}

TEST_CASE("federation errors name file:line:col and the fix", "[network][federation]") {
    using Catch::Contains;
    CHECK_THROWS_WITH(load_federation_string(std::string(kMinimal) + "linkz: []\n", "f.yaml"),
                      "f.yaml:8:1: unknown key 'linkz' in federation file: did you mean 'links'?");
    CHECK_THROWS_WITH(load_federation_string(
                          "federation: d\nlocal_site: zeta\nsites:\n  - name: alpha\n", "f.yaml"),
                      "f.yaml:2:13: local_site 'zeta' is not a site of this federation");
    CHECK_THROWS_WITH(
        load_federation_string("federation: d\nsites:\n  - name: a\n  - name: a\n", "f.yaml"),
        "f.yaml:4:11: site 'a' is defined twice");
    CHECK_THROWS_WITH(load_federation_string("federation: d\nsites:\n  - name: a\n  - name: "
                                             "b\nlinks:\n  - {from: a, to: c, bandwidth: 1G}\n",
                                             "f.yaml"),
                      Catch::StartsWith("f.yaml:6:19: link to 'c' is not a site"));
    CHECK_THROWS_WITH(load_federation_string(
                          "federation: d\nsites:\n  - name: a\n    probe: ftp://x/y\n", "f.yaml"),
                      "f.yaml:4:12: probe URL 'ftp://x/y' of site 'a' uses scheme 'ftp': only http "
                      "and https probe endpoints are supported");
    CHECK_THROWS_WITH(
        load_federation_string(
            "federation: d\nsites:\n  - name: a\n    probe: [http://ok/, 'not a url']\n", "f.yaml"),
        Contains("f.yaml:4:25: probe URL 'not a url'"));
    CHECK_THROWS_WITH(
        load_federation_string("federation: d\nsites:\n  - name: a\n    speed: 0\n", "f.yaml"),
        "f.yaml:4:12: site 'a' speed must be greater than zero");
    CHECK_THROWS_WITH(
        load_federation_string("federation: d\nsites:\n  - name: a\n  - name: b\nlinks:\n  - "
                               "{from: a, to: b, bandwidth: -5Gbit/s}\n",
                               "f.yaml"),
        Contains("f.yaml:6:33: link bandwidth"));
    CHECK_THROWS_WITH(load_federation_string("federation: d\nsites:\n  - name: a\n  - name: "
                                             "b\nlinks:\n  - {from: a, to: a, latency: 1ms}\n",
                                             "f.yaml"),
                      Contains("f.yaml:6:5: link from 'a' to itself"));
    CHECK_THROWS_WITH(load_federation_string("federation: d\nsites: []\n", "f.yaml"),
                      Contains("f.yaml:2:8: sites must be a non-empty list"));
    CHECK_THROWS_WITH(load_federation_string(
                          "federation: d\nsites:\n  - name: a\nprobing: {streams: 0}\n", "f.yaml"),
                      Contains("f.yaml:4:20: probing.streams is 0: must be between 1 and 64"));
    CHECK_THROWS_AS(load_federation("/nonexistent/federation.yaml"), ConfigError);
}

TEST_CASE("probe URLs: scheme checked on load and libcurl's parser where probing happens",
          "[network]") {
    const std::string bad_host =
        "federation: d\nsites:\n  - name: a\n    probe: 'http://bad host/p.bin'\n";
    // The submission path (no deep check) accepts what only libcurl can judge ...
    CHECK(load_federation_string(bad_host, "f.yaml").sites[0].probe_urls.size() == 1);
    // ... probing programs refuse it at its position.
    CHECK_THROWS_WITH(
        load_federation_string(bad_host, "f.yaml", netplace::network::probe_url_problem),
        "f.yaml:4:12: probe URL 'http://bad host/p.bin' of site 'a' is not a valid URL: "
        "write it as http://host[:port]/path");
    CHECK_THROWS_WITH(
        load_federation_string("federation: d\nsites:\n  - name: a\n    probe: 'https:///p'\n",
                               "f.yaml"),
        "f.yaml:4:12: probe URL 'https:///p' of site 'a' has no host");
    CHECK(netplace::network::probe_url_problem(
              "https://probe.example.org:8443/netplace/probe.bin") == std::nullopt);
    CHECK(netplace::network::probe_url_problem("gopher://x/") ==
          std::optional<std::string>(
              "uses scheme 'gopher': only http and https probe endpoints are supported"));
}
