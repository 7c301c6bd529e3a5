#include "netplace/core/cpulist.hpp"

#include "netplace/core/error.hpp"

#include <algorithm>
#include <charconv>
#include <cstddef>
#include <numeric>

namespace netplace {

std::string format_cpulist(const CpuList& cpus) {
    std::string out;
    for (size_t i = 0; i < cpus.size();) {
        size_t j = i;
        while (j + 1 < cpus.size() && cpus[j + 1] == cpus[j] + 1) ++j;
        if (!out.empty()) out += ',';
        out += std::to_string(cpus[i]);
        if (j > i) out += '-' + std::to_string(cpus[j]);
        i = j + 1;
    }
    return out;
}

namespace {
// Messages quote at most this much of a (possibly hostile, environment-supplied) list.
std::string shorten(std::string_view text) {
    return text.size() <= 80 ? std::string(text) : std::string(text.substr(0, 77)) + "...";
}
}  // namespace

CpuList parse_cpulist(std::string_view text) {
    CpuList out;
    auto bad = [&] {
        return Error("invalid CPU list '" + shorten(text) + "': expected e.g. 0-3,8,10-11");
    };
    auto number = [&](std::string_view s) {
        unsigned v = 0;
        auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
        if (s.empty() || ec != std::errc() || p != s.data() + s.size()) throw bad();
        if (v > kMaxCpuIndex)
            throw Error("CPU list '" + shorten(text) + "': index " + std::to_string(v) +
                        " is out of range (at most " + std::to_string(kMaxCpuIndex) + ")");
        return v;
    };
    size_t start = 0;
    while (start <= text.size() && !text.empty()) {
        const size_t comma = text.find(',', start);
        const std::string_view part = text.substr(start, comma - start);
        if (const size_t dash = part.find('-'); dash != std::string_view::npos) {
            const unsigned a = number(part.substr(0, dash));
            const unsigned b = number(part.substr(dash + 1));
            // Indexes are bounded by kMaxCpuIndex (checked in number()), so b - a + 1 cannot
            // wrap: "4294967295-4294967295" is refused instead of looping back to 0 forever.
            if (b < a) throw bad();
            if (out.size() + (b - a) >= kMaxCpuListEntries)
                throw Error("CPU list '" + shorten(text) + "' names more than " +
                            std::to_string(kMaxCpuListEntries) + " CPUs");
            const size_t at = out.size();
            out.resize(at + (b - a) + 1);
            std::iota(out.begin() + static_cast<std::ptrdiff_t>(at), out.end(), a);
        } else {
            if (out.size() >= kMaxCpuListEntries)
                throw Error("CPU list '" + shorten(text) + "' names more than " +
                            std::to_string(kMaxCpuListEntries) + " CPUs");
            out.push_back(number(part));
        }
        if (comma == std::string_view::npos) break;
        start = comma + 1;
    }
    std::sort(out.begin(), out.end());
    out.erase(std::unique(out.begin(), out.end()), out.end());
    return out;
}

}  // namespace netplace
