#pragma once
// How long a new transfer takes on a link that is already carrying others. One model for the
// simulator (which moves bytes this way) and the placement engine (which predicts with it):
// processor sharing, the link's bandwidth split equally among the transfers on it, recomputed
// whenever one starts or ends; each transfer pays the link latency once.
//
// Exact PS: a transfer of B bytes joining n others with r_1..r_n bytes left, and no later
// arrivals, finishes after (B + sum_i min(r_i, B)) * 8 / bandwidth: every other transfer takes
// an equal share until it ends or until B is done. A staging ledger summarises a link as (bytes
// left L, count n), so the estimate takes the r_i equal (L / n):
//     t = latency + (B + min(L, n * B)) * 8 / bandwidth
// Never below the exact figure (sum_i min(r_i, B) <= min(sum_i r_i, n B)), equal to it when the
// transfers ahead are alike, and the unshared latency + B * 8 / bandwidth when n = 0.
#include <algorithm>
#include <cstdint>
#include <limits>

namespace netplace {

inline double shared_transfer_s(double bytes, double bandwidth_bps, double latency_s,
                                double queued_bytes, unsigned queued_transfers) {
    if (!(bytes > 0)) return 0;
    if (!(bandwidth_bps > 0)) return std::numeric_limits<double>::infinity();
    double ahead = 0;
    if (queued_transfers > 0 && queued_bytes > 0)
        ahead = std::min(queued_bytes, static_cast<double>(queued_transfers) * bytes);
    return latency_s + (bytes + ahead) * 8.0 / bandwidth_bps;
}

}  // namespace netplace
