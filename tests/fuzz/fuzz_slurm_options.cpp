// --place-* option values as users type them (sbatch/srun, NETPLACE_* variables) and the JSON
// cli_filter renders them in. The first byte picks the option; the rest is its value.
#include "harness.hpp"
#include "netplace/slurm/options.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using namespace netplace;
    const std::string s = fuzz::text(data, size);
    if (!s.empty()) {
        const auto& spec =
            slurm::kOptions[static_cast<unsigned char>(s[0]) % slurm::kOptions.size()];
        fuzz::expect_netplace_errors_only([&] {
            slurm::UserOptions o;
            slurm::apply_option(o, spec.name, std::string_view(s).substr(1));
        });
    }
    fuzz::expect_netplace_errors_only([&] {
        slurm::UserOptions o;
        (void)slurm::apply_cli_json(o, s);
    });
    return 0;
}
