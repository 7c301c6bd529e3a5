#pragma once
// Runtime prediction from a user's own history, the method of Tsafrir, Etsion and Feitelson,
// "Backfilling Using System-Generated Predictions Rather than User Runtime Estimates", IEEE TPDS
// 18(6), 2007: the prediction for a new job is the mean run time of the same user's two most
// recently *terminated* jobs, never more than the job's requested time; a user with no
// terminated job yet gets the requested time. (Their Table 3: this simple predictor keeps
// most of EASY's benefit while cutting the 8-10x overestimates users write.)
#include <cstdint>
#include <unordered_map>

namespace netplace::sim {

class RuntimePredictor {
  public:
    // A job of `user` ran `runtime_s` (at the reference speed) and has terminated.
    void observe(std::int64_t user, double runtime_s) {
        auto& h = history_[user];
        h.older = h.last;
        h.last = runtime_s;
        if (h.count < 2) ++h.count;
    }
    // The prediction for a job of `user` asking for `requested_s`.
    double predict(std::int64_t user, double requested_s) const {
        auto it = history_.find(user);
        if (it == history_.end() || it->second.count == 0) return requested_s;
        const auto& h = it->second;
        const double mean = h.count == 1 ? h.last : (h.last + h.older) / 2.0;
        return mean < requested_s ? mean : requested_s;
    }
    // Whether `user` has history (the prediction is not just the requested time).
    bool knows(std::int64_t user) const { return history_.count(user) != 0; }

  private:
    struct History {
        double last = 0, older = 0;
        unsigned count = 0;
    };
    std::unordered_map<std::int64_t, History> history_;
};

}  // namespace netplace::sim
