// File size caps the admin sets in the federation file's `limits:` (core/limits.hpp): a lowered
// cap refuses a file that the default would read, and the refusal names the setting to raise.
#include "../support/temp_dir.hpp"
#include "netplace/core/error.hpp"
#include "netplace/core/file.hpp"
#include "netplace/core/limits.hpp"
#include "netplace/network/exchange.hpp"
#include "netplace/network/federation.hpp"
#include "netplace/network/link_state.hpp"
#include "netplace/policies/site_state.hpp"

#include <catch2/catch.hpp>

#include <unistd.h>

#include <string>
#include <vector>

using namespace netplace;

namespace {

// Caps are process-wide: every case leaves the defaults behind, whatever it loaded.
struct DefaultCaps {
    DefaultCaps() { limits::reset(); }
    ~DefaultCaps() { limits::reset(); }
};

const std::string kSites = "federation: t\nsites: [{name: a}, {name: b}]\n";

}  // namespace

TEST_CASE("limits: a lowered cap refuses a file the default reads, naming the setting",
          "[limits]") {
    DefaultCaps guard;
    test::TempDir dir;
    const std::string sites = (dir.path / "sites.json").string();
    // A valid site-state file of 5,000 bytes (padding in a string the reader ignores).
    const std::string body = R"({"schema": "netplace.sites", "version": 1, "sites": [], "pad": ")" +
                             std::string(5000, 'x') + "\"}\n";
    file::write_atomic(sites, body, 0644);
    CHECK(file::read_trusted(sites, limits::Cap::state_file) == body);  // default: 16 MiB

    network::load_federation_string(kSites + "limits: {state_file: 4KiB}\n", "f.yaml");
    CHECK(limits::bytes(limits::Cap::state_file) == 4096);
    CHECK_THROWS_WITH(file::read_trusted(sites, limits::Cap::state_file),
                      Catch::Contains(std::to_string(body.size()) +
                                      " bytes, more than the 4096 allowed by limits.state_file"));
    // Placement's reader falls back to static waits and says why, the setting included.
    std::vector<std::string> warnings;
    CHECK(policies::read_site_state(sites, 0.0, &warnings).empty());
    REQUIRE(warnings.size() == 1);
    CHECK_THAT(warnings[0], Catch::Contains("limits.state_file"));
    // The other caps kept their defaults.
    CHECK(limits::bytes(limits::Cap::link_state) == 32u << 20);

    // A federation file without limits: puts the defaults back (a reload after removing them).
    network::load_federation_string(kSites, "f.yaml");
    CHECK(file::read_trusted(sites, limits::Cap::state_file) == body);
}

TEST_CASE("limits: a lowered link_state cap refuses links.json", "[limits]") {
    DefaultCaps guard;
    test::TempDir dir;
    const std::string path = (dir.path / "links.json").string();
    network::LinkState st;
    st.federation = "t";
    for (int i = 0; i < 100; ++i) st.get_or_add("a" + std::to_string(i), "b").bandwidth_bps = 1e9;
    network::write_link_state(path, st);
    CHECK(network::read_link_state(path).links.size() == 100);
    network::load_federation_string(kSites + "limits:\n  link_state: 4KiB\n", "f.yaml");
    CHECK_THROWS_WITH(network::read_link_state(path), Catch::Contains("limits.link_state"));
}

TEST_CASE("limits: unknown keys, bad sizes and caps below 4KiB are file:line:col errors",
          "[limits]") {
    DefaultCaps guard;
    CHECK_THROWS_WITH(
        network::load_federation_string(kSites + "limits: {state_fle: 1MiB}\n", "f.yaml"),
        "f.yaml:3:10: unknown key 'state_fle' in limits: did you mean 'state_file'?");
    CHECK_THROWS_WITH(
        network::load_federation_string(kSites + "limits: {input_file: 1KiB}\n", "f.yaml"),
        Catch::StartsWith("f.yaml:3:22: limits.input_file must be at least 4KiB"));
    CHECK_THROWS_AS(
        network::load_federation_string(kSites + "limits: {input_file: lots}\n", "f.yaml"),
        ConfigError);
    CHECK_THROWS_WITH(network::load_federation_string(kSites + "limits: 5\n", "f.yaml"),
                      Catch::Contains("limits must be a mapping"));
    // A file that fails changes no cap.
    CHECK_THROWS(network::load_federation_string(
        kSites + "limits: {state_file: 8KiB}\nlinks: [{from: a, to: zz, latency: 1ms}]\n",
        "f.yaml"));
    CHECK(limits::bytes(limits::Cap::state_file) == 16u << 20);
}

TEST_CASE("docs: every limits key is in docs/network.md", "[docs]") {
    const std::string text = file::read_all(std::string(NETPLACE_SOURCE_DIR) + "/docs/network.md");
    for (const auto& c : limits::caps()) {
        INFO("limits key " << c.name);
        CHECK(text.find("| `" + std::string(c.name) + "` |") != std::string::npos);
    }
}

TEST_CASE("limits: a pipe is read to its end within its cap, refused past it by setting",
          "[limits]") {
    DefaultCaps guard;
    auto piped = [](const std::string& body) {
        int fds[2];
        REQUIRE(::pipe(fds) == 0);
        REQUIRE(body.size() < 65536);  // fits the pipe: written whole before it is read
        REQUIRE(::write(fds[1], body.data(), body.size()) == static_cast<ssize_t>(body.size()));
        ::close(fds[1]);
        return fds[0];
    };
    const std::string body(5000, 'j');
    int fd = piped(body);
    CHECK(file::read_stream(fd, "<stdin>", limits::Cap::input_file) == body);
    ::close(fd);
    network::load_federation_string(kSites + "limits: {input_file: 4KiB}\n", "f.yaml");
    fd = piped(body);
    CHECK_THROWS_WITH(file::read_stream(fd, "<stdin>", limits::Cap::input_file),
                      Catch::Contains("<stdin>: more than the 4096 bytes allowed by "
                                      "limits.input_file"));
    ::close(fd);
    fd = piped(std::string(4096, 'j'));  // exactly the cap: read
    CHECK(file::read_stream(fd, "<stdin>", limits::Cap::input_file).size() == 4096);
    ::close(fd);
}

TEST_CASE("limits: peer_staging bounds the peers' merged staging file", "[limits]") {
    DefaultCaps guard;
    test::TempDir dir;
    const std::string path = (dir.path / "links.json.staging").string();
    const std::string body = R"({"pad": ")" + std::string(5000, 'x') + "\"}\n";
    file::write_atomic(path, body, 0644);
    network::load_federation_string(kSites + "limits: {peer_staging: 4KiB}\n", "f.yaml");
    CHECK_THROWS_WITH(network::read_peer_staging(path),
                      Catch::Contains("more than the 4096 allowed by limits.peer_staging"));
}
