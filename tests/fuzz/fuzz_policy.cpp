// policy.yaml (the admin's policies, rules, ACLs).
#include "harness.hpp"
#include "netplace/policies/policy.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using namespace netplace;
    fuzz::expect_netplace_errors_only([&] {
        const auto set = policies::PolicySet::load_string(fuzz::text(data, size), "fuzz.yaml");
        (void)set.describe();
    });
    return 0;
}
