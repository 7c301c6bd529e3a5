// A job script's `#BB_LUA netplace_in=... netplace_out=... netplace_home=...` directives, read by
// the submission doors from the user's script.
#include "harness.hpp"
#include "netplace/data/directives.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using namespace netplace;
    fuzz::expect_netplace_errors_only(
        [&] { (void)data::parse_directives(fuzz::text(data, size)); });
    return 0;
}
