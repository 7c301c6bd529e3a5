// Issue 11: a number out of range ("1e999") made nlohmann throw out_of_range, which escaped every
// JSON reader as an "internal error" (exit 1). Now it is the input's error (netplace::Error).
#include "netplace/core/error.hpp"
#include "netplace/network/importers.hpp"
#include "netplace/network/link_state.hpp"
#include "netplace/policies/job_io.hpp"

#include <catch2/catch.hpp>

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
