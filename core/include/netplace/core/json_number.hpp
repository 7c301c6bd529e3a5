#pragma once
// Whole numbers read from JSON. nlohmann's get<std::uint64_t>() converts whatever number it finds
// with a cast: a float like 1e60 (or any negative float) is undefined behaviour -- UBSan in
// fuzz_ledger, on a transfer's byte count -- and -1 wraps to 2^64-1. json_uint() takes an integer
// >= 0, or a float with no fraction within range, and answers nothing for anything else, so the
// caller refuses the value with its own message. A template on the JSON type: core depends on no
// JSON library.
#include <cmath>
#include <cstdint>
#include <optional>

namespace netplace {

template <class Json>
std::optional<std::uint64_t> json_uint(const Json& v) {
    if (v.is_number_unsigned()) return v.template get<std::uint64_t>();
    if (v.is_number_integer()) {
        const auto x = v.template get<std::int64_t>();
        if (x >= 0) return static_cast<std::uint64_t>(x);
        return std::nullopt;
    }
    if (v.is_number_float()) {
        const double d = v.template get<double>();
        // 2^64 exactly: every double below it converts without overflow.
        if (d >= 0 && d < 18446744073709551616.0 && d == std::floor(d))
            return static_cast<std::uint64_t>(d);
    }
    return std::nullopt;
}

}  // namespace netplace
