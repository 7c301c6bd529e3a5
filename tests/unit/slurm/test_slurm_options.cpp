#include "../support/temp_dir.hpp"
#include "netplace/core/error.hpp"
#include "netplace/slurm/config.hpp"
#include "netplace/slurm/options.hpp"

#include <catch2/catch.hpp>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <future>
#include <map>

using namespace netplace;
using namespace netplace::slurm;

namespace {
std::string why(const std::function<void()>& f) {
    try {
        f();
    } catch (const Error& e) {
        return e.what();
    }
    return "(no error)";
}
}  // namespace

TEST_CASE("option place-sites: accepted forms", "[slurm]") {
    CHECK(parse_sites("auto").automatic());
    auto c = parse_sites("beta, alpha,!gamma");
    CHECK(c.wanted == std::vector<std::string>{"beta", "alpha"});
    CHECK(c.avoided == std::vector<std::string>{"gamma"});
    CHECK(parse_sites("!beta").wanted.empty());
    CHECK(parse_sites("!beta").avoided == std::vector<std::string>{"beta"});
    CHECK_THAT(why([] { parse_sites(""); }), Catch::Contains("empty site list"));
    CHECK_THAT(why([] { parse_sites("a,!a"); }), Catch::Contains("both wanted and avoided"));
    CHECK_THAT(why([] { parse_sites("a b"); }), Catch::Contains("'a b' is not a site name"));
    CHECK_THAT(why([] { parse_sites("auto,beta"); }), Catch::Contains("'auto' cannot be combined"));
    CHECK_THAT(why([] { parse_sites("alpha,"); }), Catch::Contains("'' is not a site name"));
}

TEST_CASE("option place-data: forms and sizes", "[slurm]") {
    auto d = parse_data("genome@beta:500G,refs@alpha:10GB");
    REQUIRE(d.size() == 2);
    CHECK(d[0].name == "genome");
    CHECK(d[0].site == "beta");
    CHECK(d[0].bytes == 500ull * 1024 * 1024 * 1024);  // Slurm convention: G is GiB
    CHECK(d[1].bytes == 10ull * 1000 * 1000 * 1000);
    CHECK(parse_data("x@c:1024")[0].bytes == 1024);
    CHECK_THAT(why([] { parse_data("genome:500G"); }),
               Catch::Contains("is not NAME or NAME@SITE:SIZE"));
    CHECK_THAT(why([] { parse_data("genome@beta"); }),
               Catch::Contains("is not NAME or NAME@SITE:SIZE"));
    // A bare name is a catalog dataset: site and size come from the catalog later.
    auto bare = parse_data("imagenet,own@beta:1G");
    REQUIRE(bare.size() == 2);
    CHECK(bare[0].name == "imagenet");
    CHECK(bare[0].site.empty());
    CHECK(bare[0].bytes == 0);
    CHECK_THAT(why([] { parse_data("bad/name"); }), Catch::Contains("bad dataset name"));
    CHECK_THAT(why([] { parse_data("g@beta:lots"); }), Catch::Contains("size"));
    CHECK_THAT(why([] { parse_data("g@b:1G,g@c:2G"); }), Catch::Contains("given twice"));
    CHECK_THAT(why([] { parse_data("g@:1G"); }), Catch::Contains("bad site name"));
}

TEST_CASE("options place-bind, place-policy and flags", "[slurm]") {
    CHECK(parse_bind("auto") == Bind::automatic);
    CHECK(parse_bind("none") == Bind::none);
    CHECK(parse_bind("gpu-nic") == Bind::gpu_nic);
    CHECK(parse_bind("numa") == Bind::numa);
    CHECK_THAT(why([] { parse_bind("cores"); }), Catch::Contains("'cores' is not a binding"));
    CHECK(parse_policy_name("data-local") == "data-local");
    CHECK_THAT(why([] { parse_policy_name("a;rm"); }), Catch::Contains("not a policy name"));
    CHECK(parse_flag("yes"));
    CHECK_FALSE(parse_flag("0"));
    CHECK_THAT(why([] { parse_flag("maybe"); }), Catch::Contains("not a yes/no"));
}

TEST_CASE("options win over their NETPLACE_* mirrors", "[slurm]") {
    std::map<std::string, std::string> env{{"NETPLACE_SITES", "gamma"},
                                           {"NETPLACE_BIND", "numa"},
                                           {"NETPLACE_EXPLAIN", "1"},
                                           {"NETPLACE_POLICY", ""}};
    GetEnv get = [&](const char* n) -> std::optional<std::string> {
        auto it = env.find(n);
        return it == env.end() ? std::nullopt : std::optional<std::string>(it->second);
    };
    UserOptions o;
    apply_option(o, "--place-sites", "beta");
    apply_env(o, {"place-sites"}, get);
    CHECK(o.sites->wanted == std::vector<std::string>{"beta"});
    CHECK(o.bind == Bind::numa);
    CHECK(o.explain);
    CHECK_FALSE(o.policy.has_value());       // empty mirror = unset
    env["NETPLACE_DATA"] = "nonsense@beta";  // a bare name is a catalog dataset; this is neither
    CHECK_THAT(why([&] { apply_env(o, {}, get); }), Catch::Contains("NETPLACE_DATA=nonsense@beta"));
    CHECK(invalid_message("place-data", "x") == "Invalid --place-data argument: x");
}

TEST_CASE("options from cli_filter JSON", "[slurm]") {
    UserOptions o;
    // The keys as Slurm 22.05's slurm.json_cli_options() renders SPANK options.
    auto given = apply_cli_json(
        o, R"({"spank:place-data":"ds@beta:2T","spank:place-explain":"","clusters":null})");
    CHECK(given == std::vector<std::string>{"place-data", "place-explain"});
    REQUIRE(o.data);
    CHECK((*o.data)[0].bytes == 2ull << 40);
    CHECK(o.explain);
    CHECK_THAT(why([] {
                   UserOptions x;
                   apply_cli_json(x, R"({"spank:place-bind":"all"})");
               }),
               Catch::Contains("Invalid --place-bind argument: 'all' is not a binding"));
}

TEST_CASE("plugstack arguments", "[slurm]") {
    auto c = parse_plugin_args({});
    CHECK(c.federation == "/etc/netplace/federation.yaml");
    CHECK(c.default_policy == "fastest");
    CHECK(c.bind == Bind::automatic);
    CHECK_FALSE(c.topology);
    c = parse_plugin_args({"federation=/x/f.yaml", "state_dir=/s", "bind=none", "topology=/t.xml",
                           "default_policy=balanced", "max_state_age=5m", "topology_cache=none"});
    CHECK(c.federation == "/x/f.yaml");
    CHECK(c.sites_path() == "/s/sites.json");
    CHECK(c.bind == Bind::none);
    CHECK(c.topology == "/t.xml");
    CHECK(c.max_state_age_s == 300);
    CHECK_FALSE(c.topology_cache);
    CHECK(parse_plugin_args({}).topology_cache == "/run/netplace/topology.xml");
    CHECK_THAT(why([] { parse_plugin_args({"colour=blue"}); }),
               Catch::Contains("colour: unknown key"));
    CHECK_THAT(why([] { parse_plugin_args({"bind=tight"}); }),
               Catch::Contains("bind: 'tight' is not a binding"));
    CHECK_THAT(why([] { parse_plugin_args({"federation=rel.yaml"}); }),
               Catch::Contains("not an absolute path"));
    CHECK_THAT(why([] { parse_plugin_args({"verbose"}); }),
               Catch::Contains("verbose: expected key=value"));
    // Steering route: direct by default, with the controller records next to the other state.
    CHECK(parse_plugin_args({}).steer == PluginConfig::Steer::direct);
    CHECK(parse_plugin_args({}).controller_max_age_s == 600);
    c = parse_plugin_args({"state_dir=/s", "steer=dbd", "controller_max_age=2m"});
    CHECK(c.steer == PluginConfig::Steer::dbd);
    CHECK(c.controller_max_age_s == 120);
    CHECK(c.controllers_path() == "/s/slurm-controllers.json");
    CHECK_THAT(why([] { parse_plugin_args({"steer=fast"}); }),
               Catch::Contains("steer: 'fast' is not direct or dbd"));
    CHECK_THAT(why([] { parse_plugin_args({"controller_max_age=soon"}); }),
               Catch::Contains("controller_max_age:"));
    CHECK_THAT(why([] { parse_plugin_args({"colour=blue"}); }),
               Catch::Contains("steer, controller_max_age"));
}

TEST_CASE("plugstack.conf lookup follows includes", "[slurm]") {
    namespace fs = std::filesystem;
    auto dir = fs::temp_directory_path() / ("np-plugstack-" + std::to_string(::getpid()));
    fs::create_directories(dir / "plugstack.conf.d");
    std::ofstream(dir / "slurm.conf")
        << "ClusterName=x\nPlugStackConfig=" << (dir / "plugstack.conf").string() << "\n";
    std::ofstream(dir / "plugstack.conf")
        << "# comment\noptional /usr/lib/other.so a=b\ninclude plugstack.conf.d/*.conf\n";
    std::ofstream(dir / "plugstack.conf.d" / "netplace.conf")
        << "required spank_netplace.so federation=/f.yaml bind=numa  # admin note\n";
    CHECK(plugstack_path_for((dir / "slurm.conf").string()) == (dir / "plugstack.conf").string());
    CHECK(cluster_name_of((dir / "slurm.conf").string()) == "x");
    auto args = find_plugstack_args(plugstack_path_for((dir / "slurm.conf").string()));
    REQUIRE(args);
    CHECK(*args == std::vector<std::string>{"federation=/f.yaml", "bind=numa"});
    CHECK_FALSE(find_plugstack_args((dir / "absent.conf").string()));
    std::ofstream(dir / "plain.conf") << "ClusterName=y\n";
    CHECK(plugstack_path_for((dir / "plain.conf").string()) == (dir / "plugstack.conf").string());
    fs::remove_all(dir);
}

TEST_CASE("plugstack.conf includes: a FIFO or an oversized file is refused and never waited on",
          "[slurm]") {
    namespace fs = std::filesystem;
    test::TempDir tmp;
    fs::create_directories(tmp.path / "d");
    const std::string conf = (tmp.path / "plugstack.conf").string();
    std::ofstream(conf) << "include d/*.conf\nrequired spank_netplace.so bind=numa\n";
    const std::string fifo = (tmp.path / "d" / "a.conf").string();
    REQUIRE(::mkfifo(fifo.c_str(), 0644) == 0);
    // Run the lookup aside: before the fix it blocked in open(2) waiting for a writer.
    auto lookup = std::async(std::launch::async, [&] {
        try {
            find_plugstack_args(conf);
            return std::string("no error");
        } catch (const std::exception& e) {
            return std::string(e.what());
        }
    });
    const bool done = lookup.wait_for(std::chrono::seconds(10)) == std::future_status::ready;
    if (!done) {
        // Unblock it (a writer appears and leaves: EOF) so the test can end, red.
        const int w = ::open(fifo.c_str(), O_WRONLY | O_NONBLOCK);
        if (w >= 0) ::close(w);
    }
    CHECK(done);
    CHECK(lookup.get() == fifo + ": not a regular file");
    fs::remove(fifo);
    std::ofstream(fifo) << std::string((1u << 20) + 1, '#');
    CHECK_THAT(why([&] { find_plugstack_args(conf); }),
               Catch::Contains(fifo + ": file is 1048577 bytes, more than the 1048576 allowed"));
    fs::remove(fifo);
    REQUIRE(find_plugstack_args(conf));
    CHECK(*find_plugstack_args(conf) == std::vector<std::string>{"bind=numa"});
}
