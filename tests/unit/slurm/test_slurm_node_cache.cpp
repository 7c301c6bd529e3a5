// The SPANK plugin's slurmstepd caches (node_cache.hpp): when a cached topology or plan may be
// used, what the plan cache is keyed by, and the plans' round trip.
#include "../support/temp_dir.hpp"
#include "netplace/core/file.hpp"
#include "netplace/slurm/node_cache.hpp"

#include <catch2/catch.hpp>

#include <sys/stat.h>
#include <utime.h>

using namespace netplace;
using namespace netplace::slurm;

namespace {

void set_mtime(const std::string& path, long t) {
    struct utimbuf times {};
    times.actime = t;
    times.modtime = t;
    REQUIRE(::utime(path.c_str(), &times) == 0);
}

}  // namespace

TEST_CASE("node cache: the topology cache is valid for this boot only", "[slurm][cache]") {
    CHECK(topology_cache_valid(1000, 1000));
    CHECK(topology_cache_valid(1001, 1000));
    CHECK_FALSE(topology_cache_valid(999, 1000));  // written before this boot: hardware may differ
    CHECK_FALSE(topology_cache_valid(std::nullopt, 1000));  // no cache
    CHECK_FALSE(topology_cache_valid(1000, std::nullopt));  // boot time unknown: trust nothing
}

TEST_CASE("node cache: plans are valid while not older than a valid topology cache",
          "[slurm][cache]") {
    CHECK(plan_cache_valid(100, 200, 200));
    CHECK(plan_cache_valid(100, 200, 300));
    CHECK_FALSE(plan_cache_valid(100, 200, 199));  // planned from an older topology
    CHECK_FALSE(plan_cache_valid(100, 99, 300));   // the topology itself is from an older boot
    CHECK_FALSE(plan_cache_valid(100, 200, std::nullopt));
    CHECK_FALSE(plan_cache_valid(std::nullopt, 200, 300));
}

TEST_CASE("node cache: boot time from /proc/stat", "[slurm][cache]") {
    test::TempDir dir;
    const std::string stat = (dir.path / "stat").string();
    file::write_atomic(stat, "cpu  1 2 3\nintr 5 6\nbtime 1764000000\nprocesses 42\n");
    CHECK(boot_time(stat) == 1764000000L);
    file::write_atomic(stat, "cpu  1 2 3\n");
    CHECK_FALSE(boot_time(stat));
    CHECK(boot_time().has_value());  // this host's
}

TEST_CASE("node cache: one plan file per step shape, none for an emulated topology",
          "[slurm][cache]") {
    PluginConfig cfg;
    cfg.topology_cache = "/run/np/topology.xml";
    const auto a = plan_cache_path(cfg, Bind::automatic, 4, 1, std::nullopt, std::nullopt);
    REQUIRE(a);
    CHECK(a->rfind("/run/np/topology.xml.plan-", 0) == 0);
    // Every input changes the name.
    CHECK(plan_cache_path(cfg, Bind::numa, 4, 1, std::nullopt, std::nullopt) != a);
    CHECK(plan_cache_path(cfg, Bind::automatic, 8, 1, std::nullopt, std::nullopt) != a);
    CHECK(plan_cache_path(cfg, Bind::automatic, 4, std::nullopt, std::nullopt, std::nullopt) != a);
    const std::vector<unsigned> gpus{0, 1}, cores{2, 3};
    CHECK(plan_cache_path(cfg, Bind::automatic, 4, 1, gpus, std::nullopt) != a);
    CHECK(plan_cache_path(cfg, Bind::automatic, 4, 1, std::nullopt, cores) != a);
    CHECK(plan_cache_path(cfg, Bind::automatic, 4, 1, gpus, std::nullopt) !=
          plan_cache_path(cfg, Bind::automatic, 4, 1, std::nullopt, gpus));
    cfg.topology = "/x.xml";
    CHECK_FALSE(plan_cache_path(cfg, Bind::automatic, 4, 1, std::nullopt, std::nullopt));
    cfg.topology.reset();
    cfg.topology_cache.reset();
    CHECK_FALSE(plan_cache_path(cfg, Bind::automatic, 4, 1, std::nullopt, std::nullopt));
}

TEST_CASE("node cache: plans round-trip and are read only when valid", "[slurm][cache]") {
    test::TempDir dir;
    PluginConfig cfg;
    cfg.topology_cache = (dir.path / "topology.xml").string();
    const std::string plans_path = (dir.path / "plans.json").string();
    std::vector<TaskBinding> plans(2);
    plans[0].cpus = {0, 1};
    plans[0].env = {{"CUDA_VISIBLE_DEVICES", "0"}};
    plans[1].cpus = {2, 3};
    const auto back = parse_plans(format_plans(plans), 2);
    REQUIRE(back);
    CHECK(back->at(0).cpus == plans[0].cpus);
    CHECK(back->at(0).env == plans[0].env);
    CHECK_FALSE(parse_plans(format_plans(plans), 3));

    file::write_atomic(*cfg.topology_cache, "<topology/>");
    write_plans(plans_path, plans);
    const long boot = *boot_time();
    set_mtime(*cfg.topology_cache, boot + 10);
    set_mtime(plans_path, boot + 20);
    CHECK(read_plans(cfg, plans_path, 2));
    set_mtime(plans_path, boot + 5);  // older than the topology it should come from
    CHECK_FALSE(read_plans(cfg, plans_path, 2));
    set_mtime(plans_path, boot + 20);
    file::write_atomic(plans_path, "{not json");
    CHECK_FALSE(read_plans(cfg, plans_path, 2));  // unreadable: planned again, not trusted
}
