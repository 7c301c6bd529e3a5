#pragma once
// Shared by every fuzz harness: the contract each parser keeps on any input is "return a value or
// throw netplace::Error". Anything else escaping (a yaml-cpp or nlohmann exception, bad_alloc,
// std::out_of_range) is a bug: it is not caught here, so libFuzzer (or the replay driver) reports
// it as a crash together with ASan/UBSan findings, hangs and runaway memory.
#include "netplace/core/error.hpp"

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace netplace::fuzz {

inline std::string text(const std::uint8_t* data, std::size_t size) {
    return std::string(reinterpret_cast<const char*>(data), size);
}

// Runs `f`, accepting only netplace::Error as a way to refuse the input.
template <class F>
void expect_netplace_errors_only(F&& f) {
    try {
        f();
    } catch (const netplace::Error&) {
    }
}

}  // namespace netplace::fuzz
