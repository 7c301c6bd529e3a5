#pragma once
// Whether the Slurm running this process is the one netplace was built for.
//
// Slurm 22.05 loads a SPANK plugin whose plugin_version differs only in the micro release and
// refuses any other major.minor ("Incompatible plugin version"): a `required` plugin then fails
// every srun/sbatch, an `optional` one is skipped with only Slurm's terse line. The major.minor
// series is what libslurm's API number (slurm_api_version()) tracks, so comparing that number
// with the one recorded at build time predicts Slurm's verdict. Both netplace objects loaded into
// Slurm's processes check it: the SPANK plugin as soon as it is mapped (before Slurm's own check,
// so the admin reads why) and the cli_filter module, which calls libslurm functions whose
// structures change between series.
#include <optional>
#include <string>

namespace netplace::slurm {

// libslurm API number netplace was built against ((current << 16) | (revision << 8) | age),
// 0 when the build could not determine it (then no check is made).
long built_slurm_api();
// The running process's libslurm API number, looked up with dlsym so that nothing links
// against libslurm; nullopt when the process has no Slurm library loaded (unit tests, tools).
std::optional<long> running_slurm_api();

// A one-line explanation when `running` differs from `built` in the release series, naming
// both, what stops working and the fix; nullopt when they agree or either is unknown.
std::optional<std::string> slurm_series_mismatch(const char* component, long built,
                                                 std::optional<long> running);

}  // namespace netplace::slurm
