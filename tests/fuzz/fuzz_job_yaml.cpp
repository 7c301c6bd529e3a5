// Job files in YAML (`netplace place --job`). A parsed job keeps the bounds the engine relies on:
// a core count that did not wrap, a finite non-negative time limit that prints as one.
#include "harness.hpp"
#include "netplace/core/units.hpp"
#include "netplace/policies/job_io.hpp"

#include <cmath>
#include <cstdlib>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using namespace netplace;
    fuzz::expect_netplace_errors_only([&] {
        const JobRequest j = policies::parse_job_yaml(fuzz::text(data, size), "fuzz.yaml");
        if (j.cpus_per_task > 0 && j.cores() < j.tasks) std::abort();
        if (!std::isfinite(j.walltime_s) || j.walltime_s < 0) std::abort();
        if (units::format_duration(j.walltime_s).starts_with('-')) std::abort();
    });
    return 0;
}
