// Job files in JSON (`netplace place --job x.json`, stdin).
#include "harness.hpp"
#include "netplace/core/units.hpp"
#include "netplace/policies/job_io.hpp"

#include <cmath>
#include <cstdlib>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using namespace netplace;
    fuzz::expect_netplace_errors_only([&] {
        const JobRequest j = policies::parse_job_json(fuzz::text(data, size), "fuzz.json");
        if (j.cpus_per_task > 0 && j.cores() < j.tasks) std::abort();  // as fuzz_job_yaml
        if (!std::isfinite(j.walltime_s) || j.walltime_s < 0) std::abort();
        if (units::format_duration(j.walltime_s).starts_with('-')) std::abort();
    });
    return 0;
}
