#include "netplace/core/error.hpp"
#include "netplace/slurm/collect.hpp"
#include "netplace/slurm/placement.hpp"

#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>

using namespace netplace;
using namespace netplace::slurm;

#ifdef NETPLACE_SLURM_PLACEMENT
namespace {
GetEnv no_env = [](const char*) -> std::optional<std::string> { return std::nullopt; };

PluginConfig test_config(const std::string& state_dir) {
    PluginConfig c;
    c.federation = std::string(NETPLACE_SOURCE_DIR) + "/tests/integration/slurm/federation.yaml";
    c.policy = std::string(NETPLACE_SOURCE_DIR) + "/tests/integration/slurm/policy.yaml";
    c.state_dir = state_dir;
    return c;
}
}  // namespace

TEST_CASE("cli_filter JSON becomes the engine's job", "[slurm]") {
    UserOptions o;
    apply_option(o, "place-sites", "beta,!gamma");
    auto job = job_from_cli_json(
        R"({"ntasks":"4","nodes":"2-3","cpus-per-task":"2","gpus":"a100:2","mem":"100","time":"1-00:00:00","account":"acc"})",
        o);
    CHECK(job.tasks == 4);
    CHECK(job.nodes == 2);
    CHECK(job.cpus_per_task == 2);
    CHECK(job.gpus == 2);
    CHECK(job.gpu_type == "a100");
    CHECK(job.memory_bytes == 100ull << 20);
    CHECK(job.walltime_s == 86400);
    CHECK(job.account == "acc");
    CHECK(job.hints.allowed == std::vector<std::string>{"beta"});
    CHECK(job.hints.avoided == std::vector<std::string>{"gamma"});
}

TEST_CASE("submission decisions on the test federation", "[slurm]") {
    auto dir = std::filesystem::temp_directory_path() / ("np-decide-" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir);
    auto cfg = test_config(dir.string());

    // No netplace option, no -M: untouched.
    auto r = decide_submission(R"({"wrap":"true"})", cfg, no_env, 1e9);
    CHECK(r.action == SubmitOutcome::Action::none);

    // 2 TiB at beta: 17,592 s to move anywhere else at 1 Gbit/s; equal static waits elsewhere.
    r = decide_submission(R"({"spank:place-data":"ds@beta:2T","spank:place-explain":"set"})", cfg,
                          no_env, 1e9);
    CHECK(r.action == SubmitOutcome::Action::steer);
    CHECK(r.clusters == "beta");
    REQUIRE(r.explain);
    CHECK_THAT(*r.explain, Catch::Contains("gamma"));
    bool warned = false;
    for (const auto& w : r.state_warnings) warned |= w.find("sites.json") != std::string::npos;
    CHECK(warned);  // sites.json is missing: static waits, a state warning (shown once per user)

    // Avoiding beta: the data must move; alpha and gamma tie, alpha wins by name.
    r = decide_submission(R"({"spank:place-data":"ds@beta:2T","spank:place-sites":"!beta"})", cfg,
                          no_env, 1e9);
    CHECK(r.action == SubmitOutcome::Action::steer);
    CHECK(r.clusters == "alpha");
    // Submitted at alpha itself: staying home needs no -M.
    auto home = cfg;
    home.local_cluster = "alpha";
    r = decide_submission(R"({"spank:place-data":"ds@beta:2T","spank:place-sites":"!beta"})", home,
                          no_env, 1e9);
    CHECK(r.action == SubmitOutcome::Action::steer);
    CHECK(r.site == "alpha");
    CHECK(r.clusters.empty());

    // Account ACL: students may never use gamma, even when they ask for it.
    r = decide_submission(R"({"account":"students","spank:place-sites":"gamma"})", cfg, no_env,
                          1e9);
    CHECK(r.action == SubmitOutcome::Action::refuse);
    CHECK_THAT(r.message, Catch::Contains("gamma"));
    r = decide_submission(R"({"account":"students","clusters":"gamma"})", cfg, no_env, 1e9);
    CHECK(r.action == SubmitOutcome::Action::refuse);

    // A bad value refuses with the option's message.
    r = decide_submission(R"({"spank:place-data":"ds@beta"})", cfg, no_env, 1e9);
    CHECK(r.action == SubmitOutcome::Action::refuse);
    CHECK_THAT(r.message, Catch::StartsWith("Invalid --place-data argument:"));

    // Corrupt state files never refuse a submission.
    std::ofstream(dir / "sites.json") << "{not json";
    std::ofstream(dir / "links.json") << "\x01\x02garbage";
    r = decide_submission(R"({"spank:place-data":"ds@beta:2T"})", cfg, no_env, 1e9);
    CHECK(r.action == SubmitOutcome::Action::steer);
    CHECK(r.clusters == "beta");

    // A federation that cannot be read: Slurm chooses, with a warning.
    auto broken = cfg;
    broken.federation = (dir / "absent.yaml").string();
    r = decide_submission(R"({"spank:place-data":"ds@beta:2T"})", broken, no_env, 1e9);
    CHECK(r.action == SubmitOutcome::Action::none);
    REQUIRE_FALSE(r.warnings.empty());
    CHECK_THAT(r.warnings.front(), Catch::Contains("Slurm chooses"));
    std::filesystem::remove_all(dir);
}
TEST_CASE("submission with catalog datasets adds the stage-in directive", "[slurm]") {
    auto dir =
        std::filesystem::temp_directory_path() / ("np-catalog-" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir);
    auto cfg = test_config(dir.string());
    cfg.catalog = (dir / "datasets.yaml").string();
    const std::string sum(64, '0');
    std::ofstream(cfg.catalog) << "datasets:\n"
                                  "  - name: big\n    size: 2T\n    sha256: "
                               << sum
                               << "\n    replicas: [{site: beta, url: http://b/big}]\n"
                                  "  - name: eu-data\n    size: 2T\n    sha256: "
                               << sum
                               << "\n    residency: eu\n"
                                  "    replicas: [{site: beta, url: http://b/eu}]\n";
    // The catalog puts 2 TiB at beta: the job goes there, where the data is; nothing to stage.
    auto r = decide_submission(R"({"spank:place-data":"big"})", cfg, no_env, 1e9);
    CHECK(r.action == SubmitOutcome::Action::steer);
    CHECK(r.clusters == "beta");
    CHECK(r.bb.empty());
    // The user's own figures cannot move a catalog dataset (a warning says so).
    r = decide_submission(R"({"spank:place-data":"big@gamma:1K"})", cfg, no_env, 1e9);
    CHECK(r.clusters == "beta");
    REQUIRE_FALSE(r.warnings.empty());
    CHECK_THAT(r.warnings.front(), Catch::Contains("is in the catalog"));
    // Sent elsewhere, the chosen site lacks it: the stage-in directive, home = the submit site.
    r = decide_submission(R"({"spank:place-data":"big","spank:place-sites":"!beta"})", cfg, no_env,
                          1e9);
    CHECK(r.action == SubmitOutcome::Action::steer);
    CHECK(r.site == "alpha");
    CHECK(r.bb == "#BB_LUA pool=netplace capacity=1 netplace_in=big netplace_home=alpha");
    // An unknown bare name is refused, naming the catalog.
    r = decide_submission(R"({"spank:place-data":"nosuch"})", cfg, no_env, 1e9);
    CHECK(r.action == SubmitOutcome::Action::refuse);
    CHECK_THAT(r.message, Catch::Contains("not in the dataset catalog"));
    // Residency from the catalog binds whatever the user hints ('eu' is undefined in the test
    // policy: such data stays at its home site).
    r = decide_submission(R"({"spank:place-data":"eu-data@alpha:1K","spank:place-sites":"alpha"})",
                          cfg, no_env, 1e9);
    CHECK(r.action == SubmitOutcome::Action::refuse);
    CHECK_THAT(r.message, Catch::Contains("residency"));
    // A catalog that cannot be read: Slurm chooses, with a warning.
    std::ofstream(cfg.catalog) << "datasets: [{name: x, bogus: 1}]\n";
    r = decide_submission(R"({"spank:place-data":"big"})", cfg, no_env, 1e9);
    CHECK(r.action == SubmitOutcome::Action::none);
    REQUIRE_FALSE(r.warnings.empty());
    CHECK_THAT(r.warnings.front(), Catch::Contains("dataset catalog"));
    std::filesystem::remove_all(dir);
}
#endif

TEST_CASE("collector parses sinfo and squeue output", "[slurm]") {
    // Lines as Slurm 22.05 prints them for kSinfoFormat / kSqueueFormat (node listed once per
    // partition; times as D-HH:MM:SS, MM:SS; pending jobs have INVALID time left).
    const std::string sinfo =
        "n1|1/1/0/2|mixed|(null)|batch*|up\n"
        "n1|1/1/0/2|mixed|(null)|debug|up\n"
        "n2|0/4/0/4|idle|gpu:a100:4(S:0-1)|batch*|up\n"
        "n3|0/0/8/8|drained*|(null)|batch*|up\n";
    const std::string squeue =
        "RUNNING|1|5:00|4:00|N/A|1|batch\n"
        "PENDING|2|1:00:00|INVALID|N/A|1|batch\n"
        "PENDING|4|2-00:00:00|INVALID|gres:gpu:2|2|debug,batch\n"
        "RUNNING|2|UNLIMITED|UNLIMITED|gres/gpu:1|1|batch\n";
    auto l = parse_cluster_load("beta", sinfo, squeue);
    CHECK(l.site == "beta");
    CHECK(l.nodes_total == 3);
    CHECK(l.nodes_idle == 1);
    CHECK(l.cores_total == 2 + 4 + 8);
    CHECK(l.cores_free == 1 + 4);
    CHECK(l.gpus_total == 4);
    CHECK(l.gpus_free == 3);
    CHECK(l.jobs_running == 2);
    CHECK(l.jobs_pending == 2);
    CHECK(l.pending_core_seconds == Approx(2 * 3600.0 + 4 * 172800.0));
    CHECK(l.pending_gpu_seconds == Approx(4 * 172800.0));
    CHECK(l.running_core_seconds_left == Approx(1 * 240.0 + 2 * 86400.0));
    CHECK_THROWS_WITH(parse_cluster_load("x", "n1|1/1/2|idle|(null)|b|up\n", ""),
                      Catch::Contains("not A/I/O/T"));
    CHECK_THROWS_WITH(parse_cluster_load("x", "", "RUNNING|x|5:00|4:00|N/A|1|b\n"),
                      Catch::Contains("not a count"));
}

TEST_CASE(
    "collector: only the partitions the federation lists for the site, and only up ones "
    "offer free cores",
    "[slurm]") {
    // The site lists `partitions: [debug]`: n1 (batch and debug) counts, n2 and n3 (batch only)
    // do not, and neither do jobs sent to batch alone.
    const std::string sinfo =
        "n1|1/1/0/2|mixed|(null)|batch*|up\n"
        "n1|1/1/0/2|mixed|(null)|debug|up\n"
        "n2|0/4/0/4|idle|(null)|batch*|up\n"
        "n3|0/8/0/8|idle|(null)|batch*|up\n";
    const std::string squeue =
        "RUNNING|1|5:00|4:00|N/A|1|debug\n"
        "PENDING|4|1:00:00|INVALID|N/A|1|batch\n"
        "PENDING|2|1:00:00|INVALID|N/A|1|batch,debug\n";
    const slurm::PartitionScope debug{{"debug"}};
    auto l = parse_cluster_load("beta", sinfo, squeue, debug);
    CHECK(l.nodes_total == 1);
    CHECK(l.cores_total == 2);
    CHECK(l.cores_free == 1);
    CHECK(l.jobs_running == 1);
    CHECK(l.jobs_pending == 1);  // the one that may run in debug
    CHECK(l.pending_core_seconds == Approx(2 * 3600.0));
    // Every partition when the site lists none.
    CHECK(parse_cluster_load("beta", sinfo, squeue).cores_total == 2 + 4 + 8);
    // A partition that accepts no new job (sinfo's %a: down, drain, inactive) offers no free
    // cores; its nodes still count in the totals.
    const std::string down =
        "n1|1/1/0/2|mixed|(null)|debug|down\n"
        "n2|0/4/0/4|idle|(null)|batch*|inact\n";
    auto d = parse_cluster_load("beta", down, "");
    CHECK(d.cores_total == 6);
    CHECK(d.cores_free == 0);
    // A listed partition the cluster lacks is a mistake in the federation file, said by name.
    CHECK_THROWS_WITH(parse_cluster_load("beta", sinfo, squeue, slurm::PartitionScope{{"gpu"}}),
                      Catch::Contains("partition(s) gpu listed for site 'beta'") &&
                          Catch::Contains("it has: batch, debug") &&
                          Catch::Contains("`partitions:`"));
}

TEST_CASE("accounting history: actual over requested core-seconds of ended jobs", "[slurm]") {
    // ElapsedRaw (s) | TimelimitRaw (min) | AllocCPUS, as `sacct -X -n -P -o` prints them.
    //   600 s on 4 CPUs of a 60 min limit:   used 2400, asked 14400
    //   3600 s on 2 CPUs of a 120 min limit: used 7200, asked 14400
    //   no finite limit, or no CPUs: not counted        -> 9600 / 28800 = 1/3
    const std::string two = "600|60|4\n3600|120|2\n100|UNLIMITED|8\n50|Partition_Limit|1\n0|10|0\n";
    CHECK(parse_runtime_ratio(two, 2) == Approx(1.0 / 3));
    // Fewer jobs than the minimum history (20 by default): unknown, time limits at face value.
    CHECK(parse_runtime_ratio(two, 3) == 0.0);
    CHECK(parse_runtime_ratio(two) == 0.0);
    // Ten of each: the same 1/3 from 20 jobs.
    std::string twenty;
    for (int i = 0; i < 10; ++i) twenty += "600|60|4\n3600|120|2\n";
    CHECK(parse_runtime_ratio(twenty) == Approx(1.0 / 3));
    // A job past its limit (TIMEOUT's grace) counts as its whole limit at most: capped at 1.
    CHECK(parse_runtime_ratio("7200|60|1\n", 1) == 1.0);
    CHECK(parse_runtime_ratio("") == 0.0);  // no history
    CHECK_THROWS_WITH(parse_runtime_ratio("x|10|1\n"), Catch::Contains("not a count"));
    CHECK_THROWS_WITH(parse_runtime_ratio("10|1\n"), Catch::Contains("sacct"));
}

TEST_CASE("accounting history: the same ratio per account, each with its own minimum history",
          "[slurm]") {
    // ElapsedRaw | TimelimitRaw (min) | AllocCPUS | Account. Physics: 20 jobs of 900 s on 2 CPUs
    // of a 60 min limit: 1800 / 7200 = 0.25. Chem: 20 jobs of 3000 s on 1 CPU of a 100 min
    // limit: 0.5, written "Chem" (Slurm's names are lower case: "chem"). Bio: 3 jobs, too few
    // alone. Site: (20 x 1800 + 20 x 3000 + 3 x 600) / (20 x 7200 + 20 x 6000 + 3 x 600).
    std::string out;
    for (int i = 0; i < 20; ++i) out += "900|60|2|physics\n3000|100|1|Chem\n";
    for (int i = 0; i < 3; ++i) out += "600|10|1|bio\n";
    out += "100|UNLIMITED|8|physics\n";  // no finite limit: not counted anywhere
    const RuntimeHistory h = parse_runtime_history(out);
    CHECK(h.site == Approx((20 * 1800.0 + 20 * 3000.0 + 3 * 600.0) /
                           (20 * 7200.0 + 20 * 6000.0 + 3 * 600.0)));
    REQUIRE(h.by_account.size() == 2);
    CHECK(h.by_account.at("physics") == Approx(0.25));
    CHECK(h.by_account.at("chem") == Approx(0.5));
    CHECK(h.by_account.count("bio") == 0);
    CHECK(parse_runtime_history(out, 3).by_account.at("bio") == 1.0);
    // A job without an account counts for the site only; three columns (an older format) too.
    CHECK(parse_runtime_history("600|60|4|\n600|60|4\n", 1).by_account.empty());
    CHECK(parse_runtime_history("600|60|4|\n600|60|4\n", 1).site == Approx(1.0 / 6));
}

TEST_CASE("collect_sites: the accounting history sets runtime_ratio, its failure only warns",
          "[slurm]") {
    auto dir = std::filesystem::temp_directory_path() / ("np-sacct-" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir);
    auto script = [&](const std::string& name, const std::string& body) {
        const auto p = dir / name;
        std::ofstream(p) << "#!/bin/sh\n" << body << "\n";
        std::filesystem::permissions(p, std::filesystem::perms::owner_all);
        return p.string();
    };
    const std::string sinfo = script("sinfo", "echo 'n1|0/4/0/4|idle|(null)|batch*|up'");
    const std::string squeue = script("squeue", ":");
    // 20 jobs of 1800 s of a 60 min limit on 10 CPUs: ratio 0.5. The arguments are kept to check
    // the query.
    const std::string sacct =
        script("sacct", "echo \"$@\" > " + (dir / "args").string() +
                            "; for i in $(seq 20); do echo '1800|60|10|physics'; done");
    Federation fed;
    Site s;
    s.name = "beta";
    s.cluster = "cl-beta";
    fed.sites.push_back(s);
    auto r = collect_sites(fed, 5, sinfo, squeue, sacct);
    REQUIRE(r.loads.size() == 1);
    CHECK(r.loads[0].cores_free == 4);
    CHECK(r.loads[0].runtime_ratio == Approx(0.5));
    CHECK(r.warnings.empty());
    std::ifstream args(dir / "args");
    std::string line;
    std::getline(args, line);
    CHECK(line ==
          "-M cl-beta -a -X -n -P -S now-7days -E now -s CD,TO -o "
          "ElapsedRaw,TimelimitRaw,AllocCPUS,Account");
    CHECK(r.loads[0].runtime_ratio_by_account.at("physics") == Approx(0.5));
    // No slurmdbd: the load is still collected, without a ratio, and the run says why.
    const std::string broken = script("sacct-broken", "echo 'slurmdbd down' >&2; exit 1");
    r = collect_sites(fed, 5, sinfo, squeue, broken);
    REQUIRE(r.loads.size() == 1);
    CHECK(r.errors.empty());
    CHECK(r.loads[0].runtime_ratio == 0);
    REQUIRE(r.warnings.size() == 1);
    CHECK(r.warnings[0].find("accounting history not read") != std::string::npos);
    CHECK(r.warnings[0].find("slurmdbd down") != std::string::npos);
    std::filesystem::remove_all(dir);
}

TEST_CASE("run_command bounds time and reports failures", "[slurm]") {
    CHECK(run_command({"printf", "a|b"}, 5) == "a|b");
    CHECK_THROWS_WITH(run_command({"sleep", "10"}, 0.3), Catch::Contains("timed out"));
    CHECK_THROWS_WITH(run_command({"sh", "-c", "echo nope >&2; exit 3"}, 5),
                      Catch::Contains("exit status 3: nope"));
    CHECK_THROWS_WITH(run_command({"/nonexistent/np"}, 5), Catch::Contains("cannot run"));
}
