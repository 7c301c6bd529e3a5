#pragma once
// "A warning once": state fallbacks (no link measurements yet, stale site load) are the same for
// every job until an admin fixes them, so a user sees each on the first submission and then not
// again for a while, instead of on every sbatch. Remembered per user on this host, in a private
// directory on local storage (never $HOME, which may be NFS on a login node).
#include <string>
#include <vector>

namespace netplace::slurm {

// $XDG_RUNTIME_DIR/netplace when that is a directory owned by this user, else /tmp/netplace-<uid>.
std::string warn_once_dir();

// Those of `messages` not shown to this user within `window_s`, in order; records them as shown.
// Any problem with the directory or its file (not ours, a symlink, unwritable, corrupt) shows
// every message: a warning is never lost to its own bookkeeping.
std::vector<std::string> first_showing(const std::vector<std::string>& messages,
                                       const std::string& dir, double now_unix_s,
                                       double window_s = 3600);

}  // namespace netplace::slurm
