// SWF reader on the real traces in ../shared/data/workloads and on broken input.
#include "../support/shared_data.hpp"
#include "sim_fixtures.hpp"

#include "netplace/core/error.hpp"
#include "netplace/sim/swf.hpp"

#include <zlib.h>
#include <catch2/catch.hpp>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <future>

using namespace netplace;
using namespace netplace::sim;
namespace fs = std::filesystem;

namespace {

std::string workload(const std::string& name) {
    return simtest::shared_data() + "/workloads/" + name;
}

void require(const std::string& path) {
    if (!fs::exists(path)) test::shared_data_or_skip(fs::relative(path, test::shared_data_dir()));
}

fs::path temp_dir() {
    auto d = fs::temp_directory_path() / ("netplace-sim-test-" + std::to_string(::getpid()));
    fs::create_directories(d);
    return d;
}

}  // namespace

TEST_CASE("SWF: the full LCG-2005 grid trace (gzip) with its partition header", "[sim]") {
    const auto path = workload("cloudsimplus-LCG-2005-1.swf.gz");
    require(path);
    const auto t = read_swf(path);
    // Counts from the header (MaxJobs: 188041, MaxPartitions: 170) and `zcat | grep -vc '^;'`.
    CHECK(t.jobs.size() == 188041);
    CHECK(t.malformed == 0);
    CHECK(t.header.find("MaxJobs") == "188041");
    CHECK(t.header.find("UnixStartTime") == "1132444805");
    CHECK(t.header.partitions.size() == 170);
    CHECK(t.header.partitions.at(2) == "lancs.ac.uk");
    CHECK(t.header.partitions.at(170) == "lcg-lrz-ce.lrz-muenchen.de");
    // First record: "1 0 -1 83 1 -1 -1 -1 1200 -1 -1 1 1 -1 -1 1 -1 -1"
    const auto& j = t.jobs.front();
    CHECK(j.id == 1);
    CHECK(j.submit_s == 0);
    CHECK(j.runtime_s == 83);
    CHECK(j.allocated_procs == 1);
    CHECK(j.requested_time_s == 1200);
    CHECK(j.user == 1);
    CHECK(j.partition == 1);
    CHECK(j.line == 189);  // 188 header lines precede it
}

TEST_CASE("SWF: a prefix of a trace stops reading early", "[sim]") {
    const auto path = workload("cloudsimplus-LCG-2005-1.swf.gz");
    require(path);
    SwfOptions o;
    o.max_jobs = 1000;
    const auto t = read_swf(path, o);
    CHECK(t.jobs.size() == 1000);
    CHECK(t.jobs.back().id == 1000);
}

TEST_CASE("SWF: MetaCentrum extended SWF keeps the trailing fields", "[sim]") {
    const auto path = workload("alea-wagap-2013.swf");
    require(path);
    const auto t = read_swf(path);
    CHECK(t.jobs.size() == 17900);  // wc -l, no header in this file
    CHECK(t.malformed == 0);
    CHECK(t.header.fields.empty());
    const auto& j = t.jobs.front();
    CHECK(j.id == 0);
    CHECK(j.submit_s == 1356996147);
    CHECK(j.runtime_s == 56011);
    CHECK(j.requested_procs == 64);
    CHECK(j.requested_time_s == 86400);
    CHECK(j.extra.find("q_1d 1:ppn=64:x86_64:cl_zewura#excl") != std::string::npos);
}

TEST_CASE("SWF: HPC2N excerpt with its PWA header", "[sim]") {
    const auto path = workload("alea-hpc2n.swf");
    require(path);
    const auto t = read_swf(path);
    CHECK(t.jobs.size() == 3170);
    CHECK(t.header.find("MaxProcs") == "240");
    CHECK(t.header.queues.at(1) == "[fque:1]");
    CHECK(t.header.partitions.at(2) == "ALL");
}

TEST_CASE("SWF: malformed lines are reported with line numbers, skipped or fatal", "[sim]") {
    const std::string text =
        "; Version: 2.2\n"
        "1 0 -1 83 1 -1 -1 -1 1200 -1 -1 1 1 -1 -1 1 -1 -1\n"
        "2 3 -1 3611 1 -1 -1\n"                                   // line 3: too short
        "3 12 -1 abc 1 -1 -1 -1 14400 -1 -1 1 1 -1 -1 3 -1 -1\n"  // line 4: not a number
        "\n"
        "4 14 -1 130 1.5 -1 -1 -1 14400 -1 -1 2 2 -1 -1 2 -1 -1\n"  // line 6: fractional processors
        "5 20 -1 969 1 -1 -1 -1 1200 -1 -1 3 3 -1 -1 3 -1 -1\n";
    const auto t = parse_swf(text, "broken.swf");
    CHECK(t.jobs.size() == 2);
    CHECK(t.malformed == 3);
    REQUIRE(t.problems.size() == 3);
    CHECK_THAT(t.problems[0], Catch::StartsWith("broken.swf:3: only 7 of the 18 SWF fields"));
    CHECK_THAT(t.problems[1], Catch::StartsWith("broken.swf:4: field 4 (run time) is 'abc'"));
    CHECK_THAT(
        t.problems[2],
        Catch::StartsWith("broken.swf:6: field 5 (allocated processors) must be an integer"));

    SwfOptions strict;
    strict.strict = true;
    try {
        parse_swf(text, "broken.swf", strict);
        FAIL("strict parse accepted a malformed line");
    } catch (const ConfigError& e) {
        CHECK_THAT(std::string(e.what()), Catch::StartsWith("broken.swf:3:20: only 7 of the 18"));
    }
}

TEST_CASE("SWF: CRLF line ends and tabs are whitespace", "[sim]") {
    const auto t = parse_swf(
        "; MaxJobs: 1\r\n1\t0 -1 83 1 -1 -1 -1 1200 -1 -1 1 1 -1 -1 7 -1 -1\r\n", "dos.swf");
    REQUIRE(t.jobs.size() == 1);
    CHECK(t.malformed == 0);
    CHECK(t.jobs[0].partition == 7);
    CHECK(t.jobs[0].extra.empty());
    CHECK(t.header.find("MaxJobs") == "1");
}

TEST_CASE("SWF: unreadable, truncated gzip and binary files are clear errors", "[sim]") {
    const auto dir = temp_dir();
    CHECK_THROWS_WITH(read_swf((dir / "missing.swf").string()),
                      Catch::Contains("cannot open trace"));

    // A gzip stream cut in the middle: written by zlib here, then truncated.
    const auto gz = (dir / "cut.swf.gz").string();
    {
        gzFile f = gzopen(gz.c_str(), "wb");
        REQUIRE(f);
        for (int i = 1; i <= 20000; ++i)
            gzprintf(f, "%d %d -1 100 1 -1 -1 -1 200 -1 -1 1 1 -1 -1 1 -1 -1\n", i, i * 3);
        gzclose(f);
        fs::resize_file(gz, fs::file_size(gz) / 2);
    }
    CHECK_THROWS_WITH(read_swf(gz), Catch::Contains("truncated or corrupt"));

    const auto bin = (dir / "bin.swf").string();
    {
        std::ofstream o(bin, std::ios::binary);
        o << std::string("1 2 3\0\0\0 4", 11);
    }
    CHECK_THROWS_WITH(read_swf(bin), Catch::Contains("binary"));
    fs::remove_all(dir);
}

TEST_CASE("SWF: an overlong line is refused at its line and a FIFO or device is never read",
          "[sim]") {
    const auto dir = fs::temp_directory_path() / ("np-swf-bound-" + std::to_string(::getpid()));
    fs::create_directories(dir);
    const std::string good = "1 0 -1 100 1 -1 -1 -1 200 -1 -1 1 1 -1 -1 1 -1 -1\n";
    // 8 MiB of one "line" in a gzip file of a few KiB: before the bound it was buffered whole
    // (a larger one inflated to gigabytes and ended in bad_alloc).
    const auto gz = (dir / "bomb.swf.gz").string();
    {
        gzFile f = gzopen(gz.c_str(), "wb");
        REQUIRE(f);
        gzputs(f, ("; Version: 2.2\n" + good).c_str());
        const std::string ones(1 << 20, '1');
        for (int i = 0; i < 8; ++i) gzwrite(f, ones.data(), static_cast<unsigned>(ones.size()));
        gzclose(f);
    }
    CHECK(fs::file_size(gz) < 64 * 1024);
    const std::string want =
        ":3:1: line longer than 64 KiB: not an SWF record or header line (is this an SWF "
        "trace? SWF is one job per line)";
    CHECK_THROWS_WITH(read_swf(gz), gz + want);
    CHECK_THROWS_AS(read_swf(gz), ConfigError);
    // The same bound on text already in memory; a 64 KiB line is still read.
    const std::string long_line = "; Note: " + std::string((64 << 10) - 8, 'x');
    CHECK(parse_swf(long_line + "\n" + good, "t.swf").jobs.size() == 1);
    CHECK_THROWS_WITH(parse_swf(good + good + long_line + "x\n", "t.swf"), "t.swf" + want);

    const auto fifo = (dir / "trace.swf").string();
    REQUIRE(::mkfifo(fifo.c_str(), 0644) == 0);
    auto reading = std::async(std::launch::async, [&] {
        try {
            read_swf(fifo);
            return std::string("no error");
        } catch (const std::exception& e) {
            return std::string(e.what());
        }
    });
    const bool done = reading.wait_for(std::chrono::seconds(10)) == std::future_status::ready;
    if (!done) {  // before the fix: blocked in open(2); a writer that leaves ends it (red)
        const int w = ::open(fifo.c_str(), O_WRONLY | O_NONBLOCK);
        if (w >= 0) ::close(w);
    }
    CHECK(done);
    CHECK_THAT(reading.get(), Catch::Contains("trace " + fifo + " is not a regular file"));
    CHECK_THROWS_WITH(read_swf("/dev/zero"), Catch::Contains("/dev/zero is not a regular file"));
    fs::remove_all(dir);
}
