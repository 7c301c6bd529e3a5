#include "netplace/core/error.hpp"
#include "netplace/core/yaml.hpp"

#include <catch2/catch.hpp>

#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>

using namespace netplace;

TEST_CASE("YAML syntax errors carry the parser's position", "[core][yaml]") {
    CHECK_THROWS_WITH(yaml::Doc::load_string("a: [1, 2\nb: 3\n", "f.yaml"),
                      Catch::StartsWith("f.yaml:") && Catch::Contains("YAML syntax error"));
}

TEST_CASE("unknown keys are errors with a suggestion and a position", "[core][yaml]") {
    const auto d = yaml::Doc::load_string("name: x\nwieght: 3\n", "p.yaml");
    CHECK_THROWS_WITH(yaml::check_map(d.file(), d.root(), "policy", {"name", "weight"}),
                      "p.yaml:2:1: unknown key 'wieght' in policy: did you mean 'weight'?");
    const auto far = yaml::Doc::load_string("zzzzzzzz: 1\n", "p.yaml");
    CHECK_THROWS_WITH(yaml::check_map(far.file(), far.root(), "policy", {"name", "weight"}),
                      Catch::Contains("valid keys are name, weight"));
}

TEST_CASE("typed accessors name the value and the fix", "[core][yaml]") {
    const auto d = yaml::Doc::load_string(
        "n: abc\nsize: 10 furlongs\nrate: 10Gbit/s\nok: maybe\nlist: [a, b]\n", "t.yaml");
    const auto& r = d.root();
    CHECK_THROWS_WITH(yaml::as_number(d.file(), r["n"], "weight", 0, 1),
                      "t.yaml:1:4: weight must be a number, not 'abc'");
    CHECK_THROWS_WITH(yaml::as_size(d.file(), r["size"], "dataset size"),
                      Catch::StartsWith("t.yaml:2:7: dataset size: invalid size"));
    CHECK(yaml::as_rate_bps(d.file(), r["rate"], "bandwidth") == Approx(10e9));
    CHECK_THROWS_WITH(yaml::as_bool(d.file(), r["ok"], "enforce"),
                      "t.yaml:4:5: enforce must be true or false, not 'maybe'");
    CHECK(yaml::as_string_list(d.file(), r["list"], "sites") == std::vector<std::string>{"a", "b"});
    CHECK_THROWS_WITH(yaml::as_integer(d.file(), r["rate"], "nodes", 0, 10),
                      Catch::Contains("nodes must be a whole number"));
    CHECK_THROWS_WITH(yaml::require(d.file(), r, "sites", "federation"),
                      Catch::Contains("federation is missing required key 'sites'"));
}

// Issue 11: each of these was an "internal error" (yaml-cpp exception), a hang or a bad_alloc.
TEST_CASE("hostile YAML: non-scalar keys, FIFOs, huge files and alias bombs are file errors",
          "[core][yaml][hostile]") {
    using netplace::yaml::Doc;
    auto error_of = [](auto&& f) -> std::string {
        try {
            f();
        } catch (const netplace::ConfigError& e) {
            return e.what();
        }
        return "no error";
    };
    const Doc keys = Doc::load_string("walltime: 1h\n[a]: 1\n", "j.yaml");
    CHECK_THAT(
        error_of([&] { netplace::yaml::check_map("j.yaml", keys.root(), "job", {"walltime"}); }),
        Catch::StartsWith("j.yaml:2:1: a key in job must be a plain name"));

    const std::filesystem::path dir =
        std::filesystem::temp_directory_path() / ("np-yaml-" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir);
    const std::string fifo = (dir / "fifo.yaml").string();
    REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
    CHECK_THAT(error_of([&] { Doc::load_file(fifo); }), Catch::Contains("not a regular file"));
    CHECK_THAT(error_of([] { Doc::load_file("/dev/zero"); }),
               Catch::Contains("not a regular file"));
    const auto big = dir / "big.yaml";
    std::ofstream(big) << "walltime: 1h\n";
    std::filesystem::resize_file(big, 100u << 20);  // sparse: no disk used
    CHECK_THAT(error_of([&] { Doc::load_file(big.string()); }), Catch::Contains("more than"));
    std::filesystem::remove_all(dir);

    std::string bomb = "a: &big " + std::string(1 << 20, 'x') + "\nb: [";
    for (int i = 0; i < 3000; ++i) bomb += i ? ",*big" : "*big";
    bomb += "]\n";
    CHECK_THAT(error_of([&] { Doc::load_string(bomb, "bomb.yaml"); }),
               Catch::StartsWith("bomb.yaml:2:") && Catch::Contains("aliases expand"));
    CHECK_NOTHROW(Doc::load_string("a: &w 1h\nb: *w\n", "ok.yaml"));
    // yaml-cpp 0.7 reads "," as endless null documents (found by fuzz_catalog): an '&' anywhere,
    // even in a comment, turns the alias count on, which must stop at the first document instead
    // of spinning to the limit and blaming aliases.
    CHECK_THAT(error_of([] { Doc::load_string("# R&D cluster\n,\n", "comma.yaml"); }),
               !Catch::Contains("aliases expand"));
}

// Two policy files concatenated with "---" between them: YAML::Load builds the first document
// only, so the second one's rules were dropped without a word.
TEST_CASE("a second YAML document is refused where it starts, an empty one passes",
          "[core][yaml][hostile]") {
    using netplace::yaml::Doc;
    CHECK_THROWS_WITH(Doc::load_string("a: 1\n---\nb: 2\n", "two.yaml"),
                      Catch::StartsWith("two.yaml:3:1: a second YAML document starts here") &&
                          Catch::Contains("merge it into the first"));
    CHECK_THROWS_WITH(Doc::load_string("a: 1\n...\nb: 2\n", "end.yaml"),
                      Catch::StartsWith("end.yaml:3:1: a second YAML document"));
    CHECK_THROWS_WITH(Doc::load_string("- x\n--- [y]\n", "seq.yaml"),
                      Catch::StartsWith("seq.yaml:2:5: a second YAML document"));
    CHECK_THROWS_WITH(Doc::load_string("a: &x 1\n---\n*x\n", "alias.yaml"),
                      Catch::StartsWith("alias.yaml:3:1:"));
    // Nothing after the marker, a null or a comment: nothing would be lost.
    CHECK(Doc::load_string("a: 1\n---\n", "t.yaml").root()["a"].as<int>() == 1);
    CHECK(Doc::load_string("a: 1\n--- ~\n", "t.yaml").root()["a"].as<int>() == 1);
    CHECK(Doc::load_string("a: 1\n...\n# the end\n", "t.yaml").root()["a"].as<int>() == 1);
    CHECK(Doc::load_string("%YAML 1.2\n---\na: 1\n", "t.yaml").root()["a"].as<int>() == 1);
    CHECK(Doc::load_string("---\na: '---'\nb: \"...\"\n", "t.yaml").root()["b"].as<std::string>() ==
          "...");
}

// closest() passes over candidates whose length alone puts them 4 edits away (a megabyte key
// cost a full edit distance against every valid key); lengths 3 apart are still suggested.
TEST_CASE("did you mean: within 3 edits, also 3 characters shorter or longer", "[core][yaml]") {
    using netplace::yaml::closest;
    CHECK(closest("wei", {"name", "weight"}) == std::optional<std::string>("weight"));
    CHECK(closest("weightxyz", {"name", "weight"}) == std::optional<std::string>("weight"));
    CHECK(closest("wieght", std::vector<std::string>{"name", "weight"}) ==
          std::optional<std::string>("weight"));
    CHECK_FALSE(closest("we", {"weight"}).has_value());
    CHECK_FALSE(closest(std::string(1u << 20, 'w'), {"name", "weight"}).has_value());
}
