#include "netplace/core/error.hpp"
#include "netplace/data/catalog.hpp"
#include "netplace/data/directives.hpp"

#include <catch2/catch.hpp>

#include <string>
#include <vector>

using namespace netplace;

namespace {

const std::string kSum(64, 'a');
const std::vector<std::string> kSites{"alpha", "beta", "gamma"};

std::string why(const std::string& yaml) {
    try {
        data::load_catalog_string(yaml, "c.yaml", kSites);
    } catch (const ConfigError& e) {
        return e.what();
    }
    return "no error";
}

}  // namespace

TEST_CASE("catalog: datasets, replicas and staging settings", "[data]") {
    const auto c = data::load_catalog_string(
        "datasets:\n"
        "  - name: imagenet\n"
        "    size: 150GiB\n"
        "    sha256: " +
            std::string(64, 'A') +
            "\n"
            "    residency: eu\n"
            "    replicas:\n"
            "      - {site: beta, url: http://b/d/imagenet}\n"
            "      - {site: gamma, url: https://g/imagenet}\n"
            "staging:\n"
            "  data_dir: /srv/data/\n"
            "  quota: 2TiB\n"
            "  rate_cap: 5Gbit/s\n"
            "  chunk: 8MiB\n"
            "  upload: [{site: alpha, url: http://a/up}]\n",
        "c.yaml", kSites);
    REQUIRE(c.datasets.size() == 1);
    const auto* d = c.find("imagenet");
    REQUIRE(d);
    CHECK(d->bytes == 150ull << 30);
    CHECK(d->sha256 == kSum);  // normalised to lower case
    CHECK(d->residency == std::optional<std::string>("eu"));
    CHECK(d->home() == "beta");
    CHECK(d->replicas[1].url == "https://g/imagenet");
    CHECK(c.staging.data_dir == "/srv/data");
    CHECK(c.staging.quota_bytes == 2ull << 40);
    CHECK(c.staging.rate_cap_bps == std::optional<double>(5e9));
    CHECK(c.staging.chunk_bytes == 8u << 20);
    CHECK(c.staging.ledger_path() == "/var/lib/netplace/transfers.json");
    CHECK(c.find("other") == nullptr);
}

TEST_CASE("catalog: errors name file, line and column", "[data]") {
    const std::string ok_sum = "    sha256: " + kSum + "\n";
    CHECK(why("datasets:\n  - name: d\n    size: 1G\n" + ok_sum +
              "    replicas: [{site: beta, url: http://b/d}]\n    residence: eu\n") ==
          "c.yaml:6:5: unknown key 'residence' in dataset: did you mean 'residency'?");
    CHECK(why("datasets:\n  - name: d\n    size: 1G\n    sha256: abc\n"
              "    replicas: [{site: beta, url: http://b/d}]\n") ==
          "c.yaml:4:13: dataset 'd' sha256 must be 64 hexadecimal digits (`sha256sum FILE`)");
    CHECK(why("datasets:\n  - name: d\n    size: 1G\n" + ok_sum +
              "    replicas: [{site: betta, url: http://b/d}]\n") ==
          "c.yaml:5:23: dataset 'd' replicas site 'betta' is not a site of the federation: did "
          "you mean 'beta'?");
    CHECK(why("datasets:\n  - name: d\n    size: 1G\n" + ok_sum +
              "    replicas: [{site: beta, url: ftp://b/d}]\n") ==
          "c.yaml:5:34: dataset 'd' replicas url 'ftp://b/d' must start with http:// or "
          "https://");
    CHECK(why("datasets:\n  - name: d\n    size: 1G\n" + ok_sum + "    replicas: []\n") ==
          "c.yaml:5:15: dataset 'd' replicas must be a non-empty list of `{site: S, url: URL}`");
    CHECK(why("datasets:\n  - name: d\n    sha256: " + kSum +
              "\n    replicas: [{site: beta, url: http://b/d}]\n") ==
          "c.yaml:2:5: dataset 'd' is missing required key 'size'");
    CHECK(why("staging: {chunk: 1KiB}\n") ==
          "c.yaml:1:18: staging chunk must be between 64KiB and 1GiB (e.g. `chunk: 16MiB`)");
    CHECK(why("staging: {data_dir: rel/path}\n") ==
          "c.yaml:1:21: staging data_dir must be an absolute path");
    CHECK(why("datasets:\n  - name: d\n    size: 1G\n" + ok_sum +
              "    replicas: [{site: beta, url: http://b/d}]\n  - name: d\n    size: 1G\n" +
              ok_sum + "    replicas: [{site: beta, url: http://b/d}]\n") ==
          "c.yaml:6:11: dataset 'd' is listed twice");
}

TEST_CASE("catalog: resolving a job's datasets", "[data]") {
    const auto c = data::load_catalog_string(
        "datasets:\n  - name: eu-data\n    size: 1000\n"
        "    sha256: " +
            kSum +
            "\n    residency: eu\n"
            "    replicas: [{site: beta, url: http://b/x}]\n",
        "c.yaml", kSites);
    // A bare name takes the catalog's site, size and residency.
    std::vector<Dataset> in{{"eu-data", "", 0, std::nullopt}};
    CHECK(data::resolve_inputs(in, &c).empty());
    CHECK(in[0].site == "beta");
    CHECK(in[0].bytes == 1000);
    CHECK(in[0].residency == std::optional<std::string>("eu"));

    // The user cannot override the catalog, in particular not its residency.
    std::vector<Dataset> lie{{"eu-data", "alpha", 5, std::nullopt}};
    auto w = data::resolve_inputs(lie, &c);
    REQUIRE(w.size() == 1);
    CHECK_THAT(w[0], Catch::Contains("is in the catalog"));
    CHECK(lie[0].site == "beta");
    CHECK(lie[0].bytes == 1000);
    CHECK(lie[0].residency == std::optional<std::string>("eu"));

    // Unknown datasets: the user's own declaration, or an error naming the catalog.
    std::vector<Dataset> own{{"mine", "gamma", 42, std::nullopt}};
    CHECK(data::resolve_inputs(own, &c).empty());
    CHECK(own[0].site == "gamma");
    std::vector<Dataset> bare{{"mine", "", 0, std::nullopt}};
    CHECK_THROWS_WITH(data::resolve_inputs(bare, &c),
                      Catch::Contains("dataset 'mine' is not in the dataset catalog (c.yaml)"));
    CHECK_THROWS_WITH(data::resolve_inputs(bare, nullptr), Catch::Contains("none configured"));
}

TEST_CASE("BB_LUA directives: written by the door, read by the stager", "[data]") {
    const std::string line = data::directive_for({"imagenet", "refs"}, "alpha");
    CHECK(line == "#BB_LUA pool=netplace capacity=1 netplace_in=imagenet,refs netplace_home=alpha");
    const auto d = data::parse_directives("#!/bin/bash\n#SBATCH -n1\n" + line +
                                          "\n#BB_LUA netplace_out=/home/u/out.tar,/home/u/log "
                                          "netplace_in=refs,extra\n\necho hi\n#BB_LUA "
                                          "netplace_in=ignored\n");
    CHECK(d.inputs == std::vector<std::string>{"imagenet", "refs", "extra"});
    CHECK(d.outputs == std::vector<std::string>{"/home/u/out.tar", "/home/u/log"});
    CHECK(d.home == std::optional<std::string>("alpha"));
    CHECK(data::parse_directives("#!/bin/sh\necho\n#BB_LUA netplace_in=x\n").inputs.empty());
}

TEST_CASE("catalog: the shipped example is valid", "[data]") {
    const auto c = data::load_catalog(std::string(NETPLACE_SOURCE_DIR) + "/etc/datasets.yaml",
                                      {"alpha", "beta", "gamma"});
    REQUIRE(c.find("imagenet"));
    CHECK(c.find("imagenet")->home() == "beta");
    CHECK(c.find("patient-records")->residency == std::optional<std::string>("eu"));
    CHECK(c.staging.rate_cap_bps == std::optional<double>(5e9));
    CHECK(c.staging.upload.size() == 1);
}
