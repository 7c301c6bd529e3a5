#pragma once
// Wall-clock "now" as every netplace file carries it: seconds since the Unix epoch, fractional.
// The one definition: state ages, snapshot expiry, stage records and decisions all read it (tests
// pass their own time where a function takes one).
#include <chrono>

namespace netplace {

inline double now_unix() {
    return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch())
        .count();
}

}  // namespace netplace
