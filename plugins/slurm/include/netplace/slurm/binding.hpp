#pragma once
// What task_init does to one task: the affinity plan of the topology issue turned into a CPU set
// to apply and the environment a task sees. Pure (topology and env in, plan out) so it is tested
// without Slurm.
#include "netplace/core/node.hpp"
#include "netplace/slurm/options.hpp"

#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace netplace::slurm {

struct TaskBinding {
    CpuList cpus;                                          // planned PUs (OS indexes)
    std::vector<std::pair<std::string, std::string>> env;  // variables to set, in order
};

// Plans local task `rank` of `tasks` on `topo`. `gpus_per_task`: what the step asked for
// (nullopt: not known). `step_gpus`: the node's GPUs Slurm gave the step (indexes in PCI order,
// see step_gpus_from_env); the plan then uses only those, so a step never names a GPU of another
// job. Variables the user already set (per `user_env`) among NCCL_IB_HCA and UCX_NET_DEVICES are
// left alone. `step_cores`: the step's cores on this node as Slurm numbers them
// (S_STEP_ALLOC_CORES: socket-major, which is hwloc's logical core order when slurm.conf describes
// the node as it is); the plan then uses only those, so tasks never land on another job's cores.
// Bind::none → nullopt; Bind::automatic with more tasks than the step's cores (an overcommitted
// step) → nullopt, tasks left as Slurm placed them. Throws netplace::Error for a plan that cannot
// be made (gpu-nic on a node without GPUs, more tasks than cores, a step GPU or core id the
// topology lacks).
std::optional<TaskBinding> plan_binding(
    const NodeTopology& topo, Bind bind, unsigned tasks, unsigned rank,
    std::optional<unsigned> gpus_per_task, const GetEnv& user_env,
    const std::optional<std::vector<unsigned>>& step_gpus = std::nullopt,
    const std::optional<std::vector<unsigned>>& step_cores = std::nullopt);

// The GPUs Slurm allocated on this node: SLURM_STEP_GPUS (a step; per task in task_init when
// Slurm binds GPUs to tasks), else SLURM_JOB_GPUS (the batch step). These are gres.conf File=
// indexes (/dev/nvidiaN), which netplace takes as PCI order — what NVIDIA's driver numbering and
// Slurm's AutoDetect=nvml give. nullopt when Slurm manages no GPUs for the step. Throws
// netplace::Error naming the variable for a value that is not an index list.
std::optional<std::vector<unsigned>> step_gpus_from_env(const GetEnv& env);

// The GPU indexes a plan gave its task (its NETPLACE_GPU), empty when none.
std::vector<unsigned> planned_gpus(const TaskBinding& binding);

// GPUs per task from the step's environment: SLURM_GPUS_PER_TASK, else SLURM_GPUS_ON_NODE
// divided over the local tasks; nullopt when the step has no GPUs.
std::optional<unsigned> gpus_per_task_from_env(const GetEnv& env, unsigned local_tasks);

}  // namespace netplace::slurm
