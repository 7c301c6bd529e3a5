// Issue 11: a number out of range ("1e999") made nlohmann throw out_of_range, which escaped every
// JSON reader as an "internal error" (exit 1). Now it is the input's error (netplace::Error).
#include "netplace/core/error.hpp"
#include "netplace/core/json_number.hpp"
#include "netplace/data/ledger.hpp"
#include "netplace/data/replicas.hpp"
#include "netplace/network/importers.hpp"
#include "netplace/network/link_state.hpp"
#include "netplace/policies/job_io.hpp"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <unistd.h>

#include <filesystem>
#include <string>

using namespace netplace;

TEST_CASE("1e999 in job JSON, link state and imports is a netplace error", "[hostile][json]") {
    CHECK_THROWS_AS(policies::parse_job_json("{\"walltime\": \"1h\", \"tasks\": 1e999}", "j.json"),
                    ConfigError);
    CHECK_THROWS_WITH(
        network::parse_link_state(
            R"({"schema":"netplace.links","version":1,"links":[{"from":"a","to":"b","bandwidth_bps":1e999}]})",
            "links.json"),
        Catch::StartsWith("links.json: not a complete JSON document"));
    CHECK_THROWS_AS(
        network::import_iperf3(R"({"start":{},"end":{"sum_received":{"bits_per_second":1e999}}})",
                               "i.json", "a", "b"),
        Error);
    CHECK_THROWS_AS(network::import_pscheduler(R"({"succeeded": true, "summary": 1e999})", "p.json",
                                               "a", "b", 0),
                    Error);
}

// links.json.lock planted as a symlink: the writer (often root) used to create a file at its
// target; the lock is now opened with O_NOFOLLOW and the update fails instead.
TEST_CASE("a symlinked links.json.lock is refused, nothing is created at its target",
          "[hostile][link_state]") {
    const std::filesystem::path dir =
        std::filesystem::temp_directory_path() / ("np-lock-" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir);
    const auto target = dir / "elsewhere";
    const std::string path = (dir / "links.json").string();
    std::filesystem::create_symlink(target, path + ".lock");
    CHECK_THROWS_AS(network::update_link_state(
                        path, [](network::LinkState&) {}, 1),
                    Error);
    CHECK_FALSE(std::filesystem::exists(target));
    std::filesystem::remove_all(dir);
}

// Found by the fuzz campaign (fuzz_ledger, UBSan): nlohmann's get<std::uint64_t>() casts a float
// such as 1e60 to an integer, which is undefined behaviour. Whole numbers go through json_uint().
TEST_CASE("json_uint: whole numbers only, never a cast out of range", "[hostile][json]") {
    using nlohmann::json;
    CHECK(json_uint(json::parse("0")) == 0u);
    CHECK(json_uint(json::parse("18446744073709551615")) == 18446744073709551615ull);
    CHECK(json_uint(json::parse("2.5e9")) == 2500000000ull);  // a float with no fraction
    CHECK_FALSE(json_uint(json::parse("1e60")));
    CHECK_FALSE(json_uint(json::parse("18446744073709551616.0")));
    CHECK_FALSE(json_uint(json::parse("-1")));
    CHECK_FALSE(json_uint(json::parse("-0.5")));
    CHECK_FALSE(json_uint(json::parse("0.5")));
    CHECK_FALSE(json_uint(json::parse("\"7\"")));
}

TEST_CASE("a byte count of 1e60 in the ledger and the replica list is refused by name",
          "[hostile][json]") {
    const std::string transfer =
        R"({"version":1,"transfers":[{"id":"t1","dataset":"d","from":"a","to":"b",)"
        R"("bytes_total":BYTES,"bytes_left":0,"rate_bps":0,"started":1,"state":"done"}]})";
    const auto ledger = [&](const std::string& bytes) {
        std::string t = transfer;
        t.replace(t.find("BYTES"), 5, bytes);
        return data::parse_ledger(t, "transfers.json");
    };
    CHECK(ledger("2.5e9").transfers.at(0).bytes_total == 2500000000ull);
    CHECK_THROWS_WITH(ledger("1e60"),
                      "transfers.json: transfer 't1': 'bytes_total' must be a "
                      "whole number of bytes");
    CHECK_THROWS_AS(ledger("-1"), Error);
    CHECK_THROWS_WITH(data::parse_ledger(R"({"version":1e60,"transfers":[]})", "transfers.json"),
                      "transfers.json: not a netplace transfer ledger (version 1)");
    CHECK_THROWS_WITH(
        data::parse_replicas(
            R"({"version":1,"replicas":[{"dataset":"d","site":"a","path":"/p","bytes":1e60,)"
            R"("sha256":"x","created":1}]})",
            "replicas.json"),
        "replicas.json: replica of 'd': 'bytes' must be a whole number of bytes");
}

TEST_CASE("a link's sample count of 1.1e78 saturates instead of an undefined cast",
          "[hostile][json]") {
    // Found by fuzz_link_state (UBSan): "samples" was cast from any finite double.
    const auto st = network::parse_link_state(
        R"({"schema":"netplace.links","version":1,"links":[)"
        R"({"from":"b","to":"a","state":"up","samples":1.1e78,"last_success":1}]})",
        "links.json");
    REQUIRE(st.links.size() == 1);
    CHECK(st.links[0].samples == 18000000000000000000ull);
}
