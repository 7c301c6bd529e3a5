#include "netplace/network/exporters.hpp"
#include "netplace/network/federation.hpp"

#include <catch2/catch.hpp>

using namespace netplace;
using namespace netplace::network;

TEST_CASE("Prometheus text format: one gauge family per figure, labels, one-hot state",
          "[network][export]") {
    const Federation fed =
        load_federation_string("federation: demo\nsites: [{name: a}, {name: b}]\n", "f.yaml");
    LinkState st;
    auto& r = st.get_or_add("b", "a");
    r.bandwidth_bps = 9.5e9;
    r.latency_s = 0.012;
    r.health = LinkHealth::up;
    r.last_success = 100;
    r.consecutive_failures = 0;
    const auto est = current_links(fed, &st, 130);
    const std::string t = prometheus_text(fed, est, &st);
    CHECK_THAT(t, Catch::Contains("# TYPE netplace_link_bandwidth_bytes_per_second gauge\n"));
    CHECK_THAT(t, Catch::Contains("netplace_link_bandwidth_bytes_per_second{federation=\"demo\","
                                  "from=\"b\",to=\"a\"} 1.1875e+09\n"));
    CHECK_THAT(t, Catch::Contains("netplace_link_bandwidth_bytes_per_second{federation=\"demo\","
                                  "from=\"a\",to=\"b\"} 125000000\n"));
    CHECK_THAT(
        t, Catch::Contains(
               "netplace_link_latency_seconds{federation=\"demo\",from=\"b\",to=\"a\"} 0.012\n"));
    CHECK_THAT(t, Catch::Contains(
                      "netplace_link_age_seconds{federation=\"demo\",from=\"b\",to=\"a\"} 30\n"));
    CHECK_THAT(
        t, Catch::Contains(
               "netplace_link_state{federation=\"demo\",from=\"b\",to=\"a\",state=\"up\"} 1\n"));
    CHECK_THAT(
        t, Catch::Contains(
               "netplace_link_state{federation=\"demo\",from=\"b\",to=\"a\",state=\"down\"} 0\n"));
    CHECK_THAT(
        t,
        Catch::Contains(
            "netplace_link_state{federation=\"demo\",from=\"a\",to=\"b\",state=\"unknown\"} 1\n"));
    CHECK_THAT(
        t, Catch::Contains("netplace_link_measured{federation=\"demo\",from=\"a\",to=\"b\"} 0\n"));

    const auto j = links_json(fed, est, &st, "/x/links.json", std::nullopt);
    CHECK(j["federation"] == "demo");
    REQUIRE(j["links"].size() == 2);
    CHECK(j["links"][1]["from"] == "b");
    CHECK(j["links"][1]["state"] == "up");
    CHECK(j["links"][1]["age_s"] == 30.0);
    CHECK(j["links"][1]["samples"] == 0);
    CHECK_FALSE(j.contains("state_error"));
}
