#include "netplace/core/error.hpp"
#include "netplace/core/file.hpp"

#include <catch2/catch.hpp>

#include "support/temp_dir.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <string>

using namespace netplace;
using netplace::test::TempDir;
namespace fs = std::filesystem;

TEST_CASE("atomic writes replace the file whole, with mode 0644, leaving no temp files",
          "[core][file]") {
    TempDir d;
    const std::string p = (d.path / "state.json").string();
    file::write_atomic(p, "first");
    file::write_atomic(p, "second version");
    CHECK(file::read_all(p) == "second version");
    struct stat st {};
    REQUIRE(::stat(p.c_str(), &st) == 0);
    CHECK((st.st_mode & 0777) == 0644);
    CHECK(std::distance(fs::directory_iterator(d.path), fs::directory_iterator{}) == 1);
}

TEST_CASE("reads refuse oversized, missing and non-regular files by name", "[core][file]") {
    TempDir d;
    const std::string p = (d.path / "big").string();
    file::write_atomic(p, std::string(1000, 'x'));
    CHECK_THROWS_WITH(file::read_all(p, 100),
                      Catch::Contains(p) && Catch::Contains("more than the 100 allowed"));
    CHECK_THROWS_WITH(file::read_all((d.path / "nope").string()), Catch::Contains("cannot open"));
    CHECK_THROWS_WITH(file::read_all(d.path.string()), Catch::Contains("not a regular file"));
    CHECK_THROWS_WITH(file::write_atomic((d.path / "no/such/dir/f").string(), "x"),
                      Catch::Contains("cannot create temporary file"));
}

TEST_CASE("reads return the file exactly, at and under the cap, as text and as bytes",
          "[core][file]") {
    TempDir d;
    const std::string p = (d.path / "state").string();
    for (const std::size_t n : {std::size_t{0}, std::size_t{1}, std::size_t{4095},
                                std::size_t{4096}, std::size_t{600000}}) {
        std::string content(n, '\0');
        for (std::size_t i = 0; i < n; ++i) content[i] = static_cast<char>('a' + i % 26);
        file::write_atomic(p, content);
        CHECK(file::read_all(p) == content);
        CHECK(file::read_all(p, n) == content);  // exactly the cap: no headroom byte to read into
        CHECK(file::read_trusted(p, n + 1) == content);
        const file::Bytes b = file::read_trusted_bytes(p, n);
        CHECK(std::string(b.data(), b.size()) == content);
    }
}
