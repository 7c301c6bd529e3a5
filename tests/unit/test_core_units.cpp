#include "netplace/core/cpulist.hpp"
#include "netplace/core/error.hpp"
#include "netplace/core/units.hpp"

#include <catch2/catch.hpp>

using namespace netplace;

TEST_CASE("sizes follow Slurm's binary suffixes and SI decimal ones", "[core][units]") {
    CHECK(units::parse_size("4096") == 4096);
    CHECK(units::parse_size("500G") == 500ULL * 1024 * 1024 * 1024);
    CHECK(units::parse_size("1.5TiB") == 1649267441664ULL);
    CHECK(units::parse_size("200MB") == 200000000ULL);
    CHECK(units::parse_size("2k") == 2048);
    CHECK_THROWS_WITH(units::parse_size("12 parsecs"),
                      Catch::Contains("invalid size '12 parsecs'"));
    CHECK_THROWS_AS(units::parse_size(""), Error);
    CHECK_THROWS_AS(units::parse_size("-5G"), Error);
    CHECK_THROWS_AS(units::parse_size("1e30P"), Error);
}

TEST_CASE("rates are bits per second unless an upper-case B says bytes", "[core][units]") {
    CHECK(units::parse_rate_bps("10Gbit/s") == Approx(10e9));
    CHECK(units::parse_rate_bps("400Mbps") == Approx(400e6));
    CHECK(units::parse_rate_bps("1G") == Approx(1e9));
    CHECK(units::parse_rate_bps("125MB/s") == Approx(1e9));
    CHECK(units::parse_rate_bps("2500") == Approx(2500));
    CHECK_THROWS_WITH(units::parse_rate_bps("fast"), Catch::Contains("invalid rate 'fast'"));
    CHECK_THROWS_AS(units::parse_rate_bps("10Xbit/s"), Error);
}

TEST_CASE("durations accept units, combinations and Slurm time forms", "[core][units]") {
    CHECK(units::parse_duration_s("90") == Approx(90));
    CHECK(units::parse_duration_s("12ms") == Approx(0.012));
    CHECK(units::parse_duration_s("1h30m") == Approx(5400));
    CHECK(units::parse_duration_s("2d") == Approx(172800));
    CHECK(units::parse_duration_s("10:00") == Approx(600));
    CHECK(units::parse_duration_s("01:02:03") == Approx(3723));
    CHECK(units::parse_duration_s("1-00:00:00") == Approx(86400));
    CHECK(units::parse_duration_s("2-12") == Approx(2 * 86400 + 12 * 3600));
    CHECK_THROWS_WITH(units::parse_duration_s("soon"), Catch::Contains("invalid duration 'soon'"));
    CHECK_THROWS_AS(units::parse_duration_s("1:2:3:4"), Error);
    CHECK_THROWS_AS(units::parse_duration_s("5 fortnights"), Error);
}

TEST_CASE("formatting picks readable units", "[core][units]") {
    CHECK(units::format_size(512) == "512 B");
    CHECK(units::format_size(1536) == "1.50 KiB");
    CHECK(units::format_rate(9.87e9) == "9.87 Gbit/s");
    CHECK(units::format_rate(250e6) == "250 Mbit/s");
    CHECK(units::format_duration(0.85) == "850 ms");
    CHECK(units::format_duration(3720) == "1h02m");
}

TEST_CASE("CPU lists round-trip in the kernel's list syntax", "[core][cpulist]") {
    CHECK(format_cpulist({0, 1, 2, 3, 8, 10, 11}) == "0-3,8,10-11");
    CHECK(format_cpulist({}) == "");
    CHECK(parse_cpulist("0-3,8,10-11") == CpuList{0, 1, 2, 3, 8, 10, 11});
    CHECK(parse_cpulist("5,1,1") == CpuList{1, 5});
    CHECK_THROWS_WITH(parse_cpulist("3-1"), Catch::Contains("invalid CPU list '3-1'"));
    CHECK_THROWS_AS(parse_cpulist("a-b"), Error);
    CHECK_THROWS_AS(parse_cpulist("1,,2"), Error);
}

TEST_CASE("errors render file:line:col", "[core][error]") {
    const ConfigError e(SourceLocation{"policy.yaml", 12, 5}, "unknown key 'wieght'");
    CHECK(std::string(e.what()) == "policy.yaml:12:5: unknown key 'wieght'");
    CHECK(e.message() == "unknown key 'wieght'");
}

// Before the bound, "4294967295-4294967295" never ended: the unsigned counter wrapped to 0 and
// the list grew until memory ran out (SLURM_STEP_GPUS, S_STEP_ALLOC_CORES reach this parser).
TEST_CASE("CPU lists are bounded: wrapping ranges and huge indexes are refused",
          "[core][cpulist]") {
    CHECK_THROWS_WITH(parse_cpulist("4294967295-4294967295"),
                      Catch::Contains("index 4294967295 is out of range"));
    CHECK_THROWS_WITH(parse_cpulist("0-4294967295"), Catch::Contains("out of range"));
    CHECK_THROWS_WITH(parse_cpulist("0-65535,0-65535"), Catch::Contains("names more than 65536"));
    CHECK(parse_cpulist("65535") == CpuList{65535});
    CHECK(parse_cpulist("0-65535").size() == 65536);
    CHECK(parse_cpulist("65530-65535,3,0-1").size() == 9);
    // 65536 is 8x Linux's largest NR_CPUS: beyond it a list is refused, not expanded (a
    // million-entry list per "0-1048575" cost 1.3 ms per parse).
    CHECK_THROWS_WITH(parse_cpulist("65536"),
                      Catch::Contains("index 65536 is out of range (at most 65535)"));
    CHECK_THROWS_WITH(parse_cpulist("0-1048575"), Catch::Contains("out of range"));
}
