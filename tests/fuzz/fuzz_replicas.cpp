// The replica registry (<state_dir>/replicas.json): what a stage-in finds local, LRU eviction.
// A parsed registry must write out and read back, and eviction must keep its promise.
#include "harness.hpp"
#include "netplace/data/replicas.hpp"

#include <cstdlib>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using namespace netplace;
    fuzz::expect_netplace_errors_only([&] {
        auto l = data::parse_replicas(fuzz::text(data, size), "replicas.json");
        const auto again = data::parse_replicas(data::replicas_json(l), "again.json");
        if (again.replicas.size() != l.replicas.size()) std::abort();
        (void)l.bytes_at("alpha");
    });
    return 0;
}
