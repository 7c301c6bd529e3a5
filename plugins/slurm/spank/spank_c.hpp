#pragma once
// slurm/spank.h declares its callback prototypes outside its own extern "C" block; wrap it so
// the slurm_spank_* definitions get C linkage.
extern "C" {
#include <slurm/spank.h>
}
