#pragma once
// Steering an sbatch without Slurm's slurmdbd lookup: libslurm sends every controller RPC of the
// process to `working_cluster_rec` when it is set, which is what sbatch's own -M path sets after
// asking slurmdbd for the cluster's record. netplace sets it from the record the collector cached.
#include "netplace/slurm/controllers.hpp"

#include <string>

namespace netplace::slurm {

// True where setting the working cluster is known to be safe: sbatch, which never frees or
// replaces it unless -M was given (srun and salloc rebuild it from the allocation).
bool direct_steer_applies();

// Sets libslurm's working cluster to `c` (symbols resolved in the running process, so the module
// never links libslurm itself). Empty on success, else why not; nothing is changed on failure.
std::string steer_directly(const Controller& c);

}  // namespace netplace::slurm
