// Controller records for direct steering: sacctmgr's output in, the cached file out and back.
#include "../support/temp_dir.hpp"
#include "netplace/core/error.hpp"
#include "netplace/core/file.hpp"
#include "netplace/slurm/collect.hpp"
#include "netplace/slurm/controllers.hpp"

#include <catch2/catch.hpp>

#include <sys/stat.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

using namespace netplace;
using namespace netplace::slurm;

#ifdef NETPLACE_SLURM_PLACEMENT
namespace {
std::string error_of(const std::string& out) {
    try {
        parse_sacctmgr_clusters(out);
    } catch (const Error& e) {
        return e.what();
    }
    return "no error";
}
}  // namespace

TEST_CASE("sacctmgr cluster records", "[slurm]") {
    // As `sacctmgr -n -P show cluster
    // format=Cluster,ControlHost,ControlPort,RPC,PluginIDSelect,Flags` prints them on the test
    // multi-cluster; a cluster whose slurmctld never registered has no host, port 0 and RPC 0.
    auto r = parse_sacctmgr_clusters(
        "alpha|127.0.0.1|26810|9728|109|MultipleSlurmd\n"
        "beta|10.1.2.3|6817|9984|109|None\n"
        "spare||0|0|0|\n");
    REQUIRE(r.size() == 2);
    CHECK(r[0].cluster == "alpha");
    CHECK(r[0].host == "127.0.0.1");
    CHECK(r[0].port == 26810);
    CHECK(r[0].rpc_version == 9728);
    CHECK(r[0].select_plugin_id == 109);
    CHECK(r[0].flags == "MultipleSlurmd");
    CHECK(r[1].host == "10.1.2.3");
    CHECK(r[1].flags == "None");
    CHECK(parse_sacctmgr_clusters("").empty());
    CHECK_THAT(error_of("alpha|127.0.0.1|26810|9728\n"),
               Catch::Contains("'alpha|127.0.0.1|26810|9728' has 4 fields, expected 6"));
    CHECK_THAT(error_of("alpha|h|70000|9728|109|None\n"), Catch::Contains("ControlPort '70000'"));
    CHECK_THAT(error_of("alpha|h|6817|x|109|None\n"), Catch::Contains("RPC 'x'"));
    CHECK_THAT(error_of("|h|6817|9728|109|None\n"), Catch::Contains("has no cluster name"));
}

TEST_CASE("controllers file: written atomically, read back with limits", "[slurm]") {
    test::TempDir dir;
    const std::string path = (dir.path / "slurm-controllers.json").string();
    const double now = 1.8e9;
    std::vector<Controller> recs = {{"alpha", "127.0.0.1", 26810, 9728, 109, "MultipleSlurmd"},
                                    {"beta", "ctl-b.example", 6817, 9984, 109, "None"}};
    write_controllers(path, recs, now);

    auto b = find_controller(path, "beta", now + 30, 600);
    REQUIRE(b.controller);
    CHECK(b.controller->host == "ctl-b.example");
    CHECK(b.controller->port == 6817);
    CHECK(b.controller->rpc_version == 9984);
    CHECK(b.controller->select_plugin_id == 109);
    CHECK(b.controller->flags == "None");
    CHECK(b.why_not.empty());

    auto stale = find_controller(path, "beta", now + 601, 600);
    CHECK_FALSE(stale.controller);
    CHECK_THAT(stale.why_not, Catch::Contains("old (limit 10m"));

    auto absent = find_controller(path, "gamma", now, 600);
    CHECK_FALSE(absent.controller);
    CHECK_THAT(absent.why_not, Catch::Contains("has no record of cluster gamma"));

    auto missing = find_controller((dir.path / "none.json").string(), "beta", now, 600);
    CHECK_FALSE(missing.controller);
    CHECK_THAT(missing.why_not, Catch::Contains("netplace sites collect writes it"));

    // Where jobs are sent is believed only from a file no other user could have written.
    REQUIRE(::chmod(path.c_str(), 0666) == 0);
    auto open_to_all = find_controller(path, "beta", now + 30, 600);
    CHECK_FALSE(open_to_all.controller);
    CHECK_THAT(open_to_all.why_not,
               Catch::Contains("writable by everyone") && Catch::Contains("chmod o-w"));
    REQUIRE(::chmod(path.c_str(), 0644) == 0);
    const std::string link = (dir.path / "controllers-link.json").string();
    REQUIRE(::symlink(path.c_str(), link.c_str()) == 0);
    auto linked = find_controller(link, "beta", now + 30, 600);
    CHECK_FALSE(linked.controller);
    CHECK_THAT(linked.why_not, Catch::Contains("is a symbolic link"));
    CHECK(find_controller(path, "beta", now + 30, 600).controller);

    // Whatever is in the file, the lookup answers with a reason and never throws.
    auto with = [&](const std::string& text) {
        file::write_atomic(path, text);
        return find_controller(path, "beta", now, 600);
    };
    CHECK_THAT(with("{\"schema\": \"netplace.slurm-controllers\", \"controllers\": [trunc").why_not,
               Catch::Contains("is not a netplace.slurm-controllers file"));
    CHECK_THAT(with("{\"schema\": \"netplace.sites\", \"version\": 1}").why_not,
               Catch::Contains("is not a netplace.slurm-controllers file"));
    CHECK_THAT(with("{\"schema\": \"netplace.slurm-controllers\", \"version\": 2, "
                    "\"generated_unix_s\": 1.8e9, "
                    "\"controllers\": []}")
                   .why_not,
               Catch::Contains("is not version 1"));
    CHECK_THAT(
        with("{\"schema\": \"netplace.slurm-controllers\", \"version\": 1, \"controllers\": []}")
            .why_not,
        Catch::Contains("has no generated_unix_s"));
    CHECK_THAT(with("{\"schema\": \"netplace.slurm-controllers\", \"version\": 1, "
                    "\"generated_unix_s\": 1.8e9, "
                    "\"controllers\": [{\"cluster\": \"beta\", \"host\": \"h\", \"port\": -1, "
                    "\"rpc_version\": 9984, "
                    "\"select_plugin_id\": 109}]}")
                   .why_not,
               Catch::Contains("the record of cluster beta is incomplete"));
    CHECK_THAT(with("{\"schema\": \"netplace.slurm-controllers\", \"version\": 1, "
                    "\"generated_unix_s\": 1.8e9, "
                    "\"controllers\": [{\"cluster\": \"beta\", \"host\": \"\", \"port\": 6817, "
                    "\"rpc_version\": 9984, "
                    "\"select_plugin_id\": 109}]}")
                   .why_not,
               Catch::Contains("the record of cluster beta is incomplete"));
    std::string binary(300, '\0');
    for (size_t i = 0; i < binary.size(); ++i) binary[i] = static_cast<char>(i * 37);
    CHECK_FALSE(with(binary).controller);
    // A record without flags (written by hand) is usable: libslurm reads "None".
    auto noflags = with(
        "{\"schema\": \"netplace.slurm-controllers\", \"version\": 1, \"generated_unix_s\": 1.8e9, "
        "\"controllers\": [{\"cluster\": \"beta\", \"host\": \"h\", \"port\": 6817, "
        "\"rpc_version\": 9984, "
        "\"select_plugin_id\": 109}]}");
    REQUIRE(noflags.controller);
    CHECK(noflags.controller->flags.empty());

    auto j = nlohmann::json::parse(format_controllers(recs, now));
    CHECK(j["schema"] == "netplace.slurm-controllers");
    CHECK(j["version"] == controllers_version);
    CHECK(j["controllers"].size() == 2);
}
#endif

// In this file too: the other piece of submission-path bookkeeping in local files.
#include "netplace/slurm/warn_once.hpp"

#include <filesystem>
#include <fstream>

TEST_CASE("state warnings are shown once per user and window", "[slurm]") {
    test::TempDir dir;
    const std::string d = (dir.path / "np").string();
    const std::vector<std::string> two = {"link state /s/links.json does not exist yet",
                                          "site state /s/sites.json is stale"};
    CHECK(first_showing(two, d, 1000) == two);  // creates the directory, 0700
    CHECK((std::filesystem::status(d).permissions() & std::filesystem::perms::group_write) ==
          std::filesystem::perms::none);
    CHECK(first_showing(two, d, 1001).empty());
    CHECK(first_showing({two[0], "new trouble"}, d, 1002) ==
          std::vector<std::string>{"new trouble"});
    CHECK(first_showing(two, d, 1000 + 3599).empty());
    CHECK(first_showing(two, d, 1000 + 3601) == two);  // the window has passed: a reminder
    CHECK(first_showing({}, d, 5000).empty());

    // Bookkeeping trouble never hides a warning.
    std::ofstream(d + "/shown-warnings") << "garbage\n\x01\x02 zz\n";
    CHECK(first_showing(two, d, 6000) == two);
    CHECK(first_showing(two, d, 6001).empty());  // and the file was rewritten
    const std::string open_dir = (dir.path / "open").string();
    std::filesystem::create_directory(open_dir);
    std::filesystem::permissions(open_dir, std::filesystem::perms::all);
    CHECK(first_showing(two, open_dir, 1000) == two);
    CHECK(first_showing(two, open_dir, 1001) ==
          two);  // world-writable: not used, so never remembered
    const std::string link = (dir.path / "link").string();
    std::filesystem::create_directory_symlink(d, link);
    CHECK(first_showing({"via a symlink"}, link, 1000) ==
          std::vector<std::string>{"via a symlink"});
    CHECK(first_showing({"via a symlink"}, link, 1001) ==
          std::vector<std::string>{"via a symlink"});
    CHECK(first_showing(two, "/proc/no/such/dir", 1000) == two);
}
