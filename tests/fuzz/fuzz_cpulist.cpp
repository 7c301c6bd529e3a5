// CPU/GPU lists from Slurm's environment (SLURM_STEP_GPUS, S_STEP_ALLOC_CORES): "0-3,8".
#include "harness.hpp"
#include "netplace/core/cpulist.hpp"

#include <cstdlib>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using namespace netplace;
    fuzz::expect_netplace_errors_only([&] {
        const CpuList l = parse_cpulist(fuzz::text(data, size));
        if (l.size() > kMaxCpuListEntries) std::abort();
        if (parse_cpulist(format_cpulist(l)) != l) std::abort();  // formatting round-trips
    });
    return 0;
}
