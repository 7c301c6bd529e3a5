#pragma once
// Checked arithmetic for sizes, counts and durations that come from users, admins and other
// sites. Sums and products of byte counts saturate at the largest value instead of wrapping: a
// job asking for more input than 16 EiB is "at least 16 EiB", which still matches `min_input`
// rules, is still too big for every capacity check and still costs an infinite transfer. Bounds
// that a human quantity may not exceed are refused where it is parsed (units.hpp).
#include <cstdint>
#include <limits>

namespace netplace::checked {

inline constexpr std::uint64_t kMaxU64 = std::numeric_limits<std::uint64_t>::max();

// a + b, or UINT64_MAX when that does not fit.
constexpr std::uint64_t sat_add(std::uint64_t a, std::uint64_t b) {
    std::uint64_t r = 0;
    return __builtin_add_overflow(a, b, &r) ? kMaxU64 : r;
}

// a * b, or UINT64_MAX when that does not fit.
constexpr std::uint64_t sat_mul(std::uint64_t a, std::uint64_t b) {
    std::uint64_t r = 0;
    return __builtin_mul_overflow(a, b, &r) ? kMaxU64 : r;
}

// a * b for 32-bit counts (tasks, GPUs, nodes), clamped to UINT_MAX: "more than 4 billion"
// still fails every capacity check, where a wrapped product could be 0 and pass them all.
constexpr unsigned sat_mul_count(unsigned a, unsigned b) {
    const std::uint64_t r = static_cast<std::uint64_t>(a) * b;
    return r > std::numeric_limits<unsigned>::max() ? std::numeric_limits<unsigned>::max()
                                                    : static_cast<unsigned>(r);
}

// Running saturating sum: `total = sat_add(total, x)` for each x.
template <typename Range, typename Get>
constexpr std::uint64_t sat_sum(const Range& items, Get get) {
    std::uint64_t total = 0;
    for (const auto& item : items) total = sat_add(total, get(item));
    return total;
}

}  // namespace netplace::checked
