#include "../support/shared_data.hpp"
#include "netplace/core/error.hpp"
#include "netplace/core/file.hpp"
#include "netplace/network/federation.hpp"
#include "netplace/network/importers.hpp"
#include "netplace/network/link_state.hpp"

#include <catch2/catch.hpp>

#include <cstdlib>
#include <filesystem>

using namespace netplace;
using namespace netplace::network;

namespace {

std::string shared_data() {
    if (const char* e = std::getenv("NETPLACE_SHARED_DATA"); e && *e) return e;
    return NETPLACE_SHARED_DATA;
}

const ImportedSample* find(const ImportResult& r, const std::string& from, const std::string& to) {
    for (const auto& s : r.samples)
        if (s.from == from && s.to == to) return &s;
    return nullptr;
}

}  // namespace

TEST_CASE("Skyplane CSV matrices map regions to sites through the federation",
          "[network][import]") {
    const std::string dir = shared_data() + "/network";
    test::shared_data_or_skip("network/skyplane-throughput.csv");
    // etc/federation.yaml maps alpha=aws:us-east-1, beta=aws:eu-central-1,
    // gamma=gcp:asia-northeast1-a.
    const Federation fed =
        load_federation(std::string(NETPLACE_SOURCE_DIR) + "/etc/federation.yaml");
    // Expected values: the rows of those region pairs, extracted with awk from the CSV (pairs with
    // two rows -- PREMIUM and STANDARD tiers -- take the median, i.e. the mean of the two).
    const auto tp =
        import_csv(file::read_all(dir + "/skyplane-throughput.csv"), "throughput.csv", fed, 5000);
    REQUIRE(tp.samples.size() == 6);
    CHECK(*find(tp, "alpha", "beta")->sample.bandwidth_bps == Approx(4120299148.158633));
    CHECK(*find(tp, "beta", "alpha")->sample.bandwidth_bps == Approx(4111545896.071298));
    CHECK(*find(tp, "alpha", "gamma")->sample.bandwidth_bps ==
          Approx((3683727110.368377 + 3744968292.8877993) / 2));
    CHECK(*find(tp, "gamma", "alpha")->sample.bandwidth_bps ==
          Approx((2490899000.0 + 4564643000.0) / 2));
    CHECK(*find(tp, "gamma", "beta")->sample.bandwidth_bps ==
          Approx((3353223000.0 + 498680983.701497) / 2));
    CHECK(find(tp, "alpha", "beta")->sample.at == 5000);
    CHECK(find(tp, "alpha", "beta")->sample.source == "csv");
    REQUIRE_FALSE(tp.notes.empty());
    CHECK_THAT(tp.notes.back(), Catch::Contains("map to no site"));

    const auto lat =
        import_csv(file::read_all(dir + "/skyplane-latency.csv"), "latency.csv", fed, 5000);
    REQUIRE(lat.samples.size() == 6);
    CHECK(*find(lat, "alpha", "beta")->sample.latency_s == Approx(0.089818));
    CHECK(*find(lat, "alpha", "beta")->sample.jitter_s == Approx(0.000135));
    CHECK(*find(lat, "gamma", "alpha")->sample.latency_s == Approx((0.183279 + 0.092621) / 2));
    CHECK_FALSE(find(lat, "alpha", "beta")->sample.bandwidth_bps);

    LinkState st;
    apply_imports(st, tp, fed.probing);
    apply_imports(st, lat, fed.probing);
    const LinkRecord* r = st.find("gamma", "beta");
    REQUIRE(r);
    CHECK(r->samples == 2);
    CHECK(*r->bandwidth_bps == Approx((3353223000.0 + 498680983.701497) / 2));
    CHECK(*r->latency_s == Approx((0.224403 + 0.230724) / 2));
}

TEST_CASE("CSV import errors name the file and line", "[network][import]") {
    const Federation fed =
        load_federation_string("federation: t\nsites: [{name: a}, {name: b}]\n", "f.yaml");
    CHECK_THROWS_WITH(import_csv("x,y\n1,2\n", "m.csv", fed, 0),
                      Catch::Contains("m.csv: CSV header needs"));
    CHECK_THROWS_WITH(import_csv("from,to,bandwidth_bps\na,b\n", "m.csv", fed, 0),
                      Catch::StartsWith("m.csv:2: 2 fields, header has 3"));
    const auto r = import_csv(
        "from,to,bandwidth_bps,latency_ms\na,b,1e9,12.5\nb,a,\"2e9\",\nb,b,1,1\n", "m.csv", fed, 7);
    REQUIRE(r.samples.size() == 2);
    CHECK(*find(r, "a", "b")->sample.latency_s == Approx(0.0125));
    CHECK(*find(r, "b", "a")->sample.bandwidth_bps == 2e9);
    CHECK_FALSE(find(r, "b", "a")->sample.latency_s);
}

TEST_CASE("iperf3 -J: receiver rate, sender RTT, start time", "[network][import]") {
    // Shape of iperf3 3.12 -J output (Debian 12), trimmed to the fields the importer reads.
    const std::string j =
        R"({"start":{"timestamp":{"time":"Tue, 24 Nov 2026 20:00:00 GMT","timesecs":1795636800},
      "test_start":{"protocol":"TCP","num_streams":2,"reverse":1}},
      "intervals":[],
      "end":{"streams":[{"sender":{"bytes":1000,"mean_rtt":1200}},{"sender":{"bytes":1000,"mean_rtt":1800}}],
             "sum_sent":{"bytes":36000000,"bits_per_second":96000000.0},
             "sum_received":{"bytes":35000000,"bits_per_second":95500000.5}}})";
    const auto r = import_iperf3(j, "i.json", "beta", "alpha");
    REQUIRE(r.samples.size() == 1);
    const auto& s = r.samples[0].sample;
    CHECK(*s.bandwidth_bps == 95500000.5);
    CHECK(*s.latency_s == Approx(0.0015));  // median of 1.2 ms and 1.8 ms
    CHECK(s.at == 1795636800);
    CHECK(s.bytes == 35000000u);
    CHECK(s.source == "iperf3");
    CHECK_THROWS_WITH(
        import_iperf3(R"({"start":{},"end":{},"error":"unable to connect to server"})", "i.json",
                      "a", "b"),
        "i.json: iperf3 reported an error: unable to connect to server");
    CHECK_THROWS_WITH(import_iperf3("{\"start\":", "i.json", "a", "b"),
                      Catch::StartsWith("i.json: not valid JSON"));
    // A byte count no uint64 holds (1e300, negative) is refused by name, never converted
    // (that conversion is undefined behaviour: UBSan flagged it from the fuzzer).
    for (const char* bytes : {"1e300", "-5", "18446744073709551616"}) {
        const std::string bad =
            R"({"start":{"timestamp":{"timesecs":1}},"end":{"sum_received":{"bytes":)" +
            std::string(bytes) + R"(,"bits_per_second":1.0}}})";
        CHECK_THROWS_WITH(import_iperf3(bad, "i.json", "a", "b"),
                          Catch::StartsWith("i.json: end.sum_received.bytes is ") &&
                              Catch::Contains("not a byte count"));
    }
}

TEST_CASE("pScheduler throughput, rtt and latency results", "[network][import]") {
    // Throughput: the structure of pScheduler's throughput result schema (summary.summary).
    const auto t =
        import_pscheduler(R"({"result-merged":{"succeeded":true,"diags":"","intervals":[],
        "summary":{"streams":[],"summary":{"start":0.0,"end":10.0,"throughput-bits":1760000000.0,"throughput-bytes":2.05e9}}}})",
                          "t.json", "beta", "alpha", 1234);
    CHECK(*t.samples.at(0).sample.bandwidth_bps == 1760000000.0);
    CHECK(t.samples[0].sample.at == 1234);
    CHECK(t.samples[0].sample.source == "perfsonar");
    const auto rtt =
        import_pscheduler(R"({"succeeded":true,"roundtrips":[{"seq":1,"rtt":"PT0.0102S"},
        {"seq":2,"rtt":"PT0.0100S"},{"seq":3,"rtt":"PT0.0150S"},{"seq":4}],"loss":0.25})",
                          "r.json", "beta", "alpha", 1);
    CHECK(*rtt.samples[0].sample.latency_s == Approx(0.0102));  // median of 10.2, 10.0, 15.0 ms
    CHECK(*rtt.samples[0].sample.jitter_s == Approx((0.0002 + 0.005) / 2));
    const auto owd = import_pscheduler(R"({"succeeded":true,"packets-sent":10,"packets-received":10,
        "histogram-latency":{"4.10":2,"4.20":5,"9.00":3}})",
                                       "l.json", "beta", "alpha", 1);
    CHECK(*owd.samples[0].sample.latency_s ==
          Approx(2 * 0.0042));  // median one-way 4.2 ms, doubled
    CHECK_THROWS_WITH(import_pscheduler(R"({"succeeded":false,"error":"iperf3 timed out"})",
                                        "x.json", "a", "b", 0),
                      "x.json: the pScheduler run failed: iperf3 timed out");
    CHECK(parse_iso8601_duration("PT1M30.5S") == 90.5);
    CHECK(parse_iso8601_duration("P1DT1H") == 90000);
    CHECK_THROWS(parse_iso8601_duration("1.5s"));
    CHECK_THROWS(parse_iso8601_duration("PT"));
}

TEST_CASE("CSV import reports the columns it used and takes Skyplane's throughput_recieved",
          "[network][import]") {
    const Federation fed =
        load_federation_string("federation: t\nsites: [{name: a}, {name: b}]\n", "f.yaml");
    // Skyplane writes both rates; its header spells received "recieved". Before, the importer
    // did not recognise that spelling and silently took throughput_sent (4e9, not 3e9).
    const auto r = import_csv(
        "src_region,dst_region,throughput_sent,throughput_recieved,success\na,b,4e9,3e9,True\n",
        "g.csv", fed, 1);
    REQUIRE(r.samples.size() == 1);
    CHECK(*r.samples[0].sample.bandwidth_bps == 3e9);
    REQUIRE(r.columns.size() == 4);
    CHECK(r.columns[0] == "from: src_region");
    CHECK(r.columns[1] == "to: dst_region");
    CHECK(r.columns[2] ==
          "bandwidth: throughput_recieved (documented alias of throughput_received)");
    CHECK(r.columns[3] == "success: success");
}

TEST_CASE("CSV import refuses a near-miss header with a did-you-mean", "[network][import]") {
    const Federation fed =
        load_federation_string("federation: t\nsites: [{name: a}, {name: b}]\n", "f.yaml");
    // A typo of the preferred column must not fall through to throughput_sent.
    const std::string csv = "from,to,throughput_sent,throughput_receved\na,b,4e9,3e9\n";
    CHECK_THROWS_WITH(import_csv(csv, "g.csv", fed, 1),
                      "g.csv:1:25: CSV column 'throughput_receved' is not one this importer "
                      "knows: did you mean 'throughput_received'? Rename it, or say which column "
                      "holds the bandwidth with --column bandwidth=throughput_receved");
    // ... and with no other bandwidth column it is not silently ignored either.
    CHECK_THROWS_WITH(import_csv("from,to,bandwith_bps\na,b,1e9\n", "h.csv", fed, 1),
                      Catch::Contains("did you mean 'bandwidth_bps'?"));
    // Two characters shorter or longer is still two edits: the length shortcut must not skip it.
    CHECK_THROWS_WITH(import_csv("from,to,bandwidth_b\na,b,1e9\n", "h.csv", fed, 1),
                      Catch::Contains("did you mean 'bandwidth_bps'?"));
    CHECK_THROWS_WITH(import_csv("from,to,bandwidth_bpsxx\na,b,1e9\n", "h.csv", fed, 1),
                      Catch::Contains("did you mean 'bandwidth_bps'?"));
}

TEST_CASE("CSV import --column picks the column for a role", "[network][import]") {
    const Federation fed =
        load_federation_string("federation: t\nsites: [{name: a}, {name: b}]\n", "f.yaml");
    CsvColumns c;
    choose_column(c, "bandwidth=throughput_receved");
    choose_column(c, "from=origin");
    const auto r = import_csv("origin,to,throughput_sent,throughput_receved\na,b,4e9,3e9\n",
                              "g.csv", fed, 1, c);
    REQUIRE(r.samples.size() == 1);
    CHECK(r.samples[0].from == "a");
    CHECK(*r.samples[0].sample.bandwidth_bps == 3e9);
    CHECK(r.columns[0] == "from: origin (--column)");
    CHECK(r.columns[2] == "bandwidth: throughput_receved (--column)");
    CsvColumns sent;
    choose_column(sent, "bandwidth=throughput_sent");
    CHECK(*import_csv("from,to,throughput_sent,throughput_received\na,b,4e9,3e9\n", "g.csv", fed, 1,
                      sent)
               .samples[0]
               .sample.bandwidth_bps == 4e9);
    CsvColumns missing;
    choose_column(missing, "latency=avg_rt");
    CHECK_THROWS_WITH(import_csv("from,to,avg_rtt\na,b,12\n", "g.csv", fed, 1, missing),
                      "g.csv:1: --column latency=avg_rt: the header has no column 'avg_rt': "
                      "did you mean 'avg_rtt'?");
    CsvColumns bad;
    CHECK_THROWS_WITH(choose_column(bad, "speed=x"), Catch::Contains("ROLE one of from, to"));
    CHECK_THROWS_WITH(choose_column(bad, "bandwidth="), Catch::Contains("expected ROLE=COLUMN"));
}

TEST_CASE("A measured 0 bit/s is a link that is down, never the static figure",
          "[network][import]") {
    const Federation fed = load_federation_string(
        "federation: t\nsites: [{name: a}, {name: b}]\n"
        "links:\n  - {from: a, to: b, bandwidth: 10Gbit/s, latency: 5ms}\n",
        "f.yaml");
    const auto r = import_csv("from,to,bandwidth_bps,latency_ms\na,b,0,12\n", "z.csv", fed, 100);
    REQUIRE(r.samples.size() == 1);
    CHECK(*r.samples[0].sample.bandwidth_bps == 0);
    REQUIRE_FALSE(r.notes.empty());
    CHECK(r.notes[0] == "a -> b: measured 0 bit/s: recorded as down");
    LinkState st;
    apply_imports(st, r, fed.probing);
    CHECK(st.find("a", "b")->health == LinkHealth::down);
    bool seen = false;
    for (const auto& e : current_links(fed, &st, 110)) {
        if (e.from != "a" || e.to != "b") continue;
        seen = true;
        CHECK(e.health == LinkHealth::down);
        CHECK(e.bandwidth_bps == 0);  // not the 10 Gbit/s of links:
        CHECK(e.measured);
    }
    CHECK(seen);
    // A positive sample afterwards brings it back at that rate (no average dragged from 0).
    const auto up = import_csv("from,to,bandwidth_bps\na,b,2e9\n", "u.csv", fed, 120);
    apply_imports(st, up, fed.probing);
    CHECK(st.find("a", "b")->health == LinkHealth::up);
    CHECK(*st.find("a", "b")->bandwidth_bps == 2e9);
    // iperf3 and pScheduler results of 0 bit/s are kept too (they were refused as missing).
    const auto i = import_iperf3(
        R"({"start":{"timestamp":{"timesecs":100}},"end":{"sum_received":{"bits_per_second":0}}})",
        "i.json", "a", "b");
    CHECK(*i.samples.at(0).sample.bandwidth_bps == 0);
    CHECK(i.columns.at(0) == "bandwidth: end.sum_received.bits_per_second (receiver side)");
    const auto p = import_pscheduler(
        R"({"succeeded":true,"summary":{"summary":{"throughput-bits":0}}})", "p.json", "a", "b", 1);
    CHECK(*p.samples.at(0).sample.bandwidth_bps == 0);
    CHECK(p.notes.at(0) == "a -> b: measured 0 bit/s: recorded as down");
}
