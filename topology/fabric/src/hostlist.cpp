// Slurm's hostlist compression (src/common/hostlist.c: hostlist_sort + hostlist_ranged_string),
// re-stated for one dimension: the only form topology.conf and gres.conf need.
#include "netplace/fabric/hostlist.hpp"

#include <algorithm>
#include <cctype>
#include <tuple>

namespace netplace::fabric {
namespace {

struct Host {
    std::string prefix;
    bool numbered = false;
    unsigned long number = 0;
    size_t digits = 0;    // digits as written ("007" -> 3)
    bool padded = false;  // leading zeros: the width is part of the name
    std::string name;
};

Host split(const std::string& name) {
    Host h;
    h.name = name;
    size_t i = name.size();
    while (i > 0 && std::isdigit(static_cast<unsigned char>(name[i - 1]))) --i;
    // Slurm ranges suffix numbers below 10^9 (MAX_HOST_SUFFIX); larger ones stay in the name.
    const bool fits =
        i < name.size() && name.size() - i <= 18 && std::stoull(name.substr(i)) < 1000000000ULL;
    if (fits) {
        h.prefix = name.substr(0, i);
        h.numbered = true;
        h.number = std::stoul(name.substr(i));
        h.digits = name.size() - i;
        h.padded = std::to_string(h.number).size() != h.digits;
    } else {
        h.prefix = name;
    }
    return h;
}

std::string pad(unsigned long n, size_t width) {
    std::string s = std::to_string(n);
    if (s.size() < width) s.insert(0, width - s.size(), '0');
    return s;
}

// One bracket of a hostlist: a prefix and runs of numbers written with one width (or, when no
// number is zero-padded, each with its natural width: node[9-11]).
struct Bracket {
    std::string prefix;
    bool padded = false;
    size_t digits = 0;  // common digit count, when padded or uniform
    bool uniform = true;
    std::vector<std::pair<unsigned long, unsigned long>> runs;
    size_t count = 0;

    // Slurm combines ranges whose widths agree; zero padding fixes the width.
    bool accepts(const Host& h) const {
        if (!h.numbered || h.prefix != prefix) return false;
        if (!h.padded && !padded) return true;
        return uniform && h.digits == digits;
    }
    void add(const Host& h) {
        if (count == 0) {
            digits = h.digits;
        } else if (h.digits != digits) {
            uniform = false;
        }
        padded = padded || h.padded;
        if (!runs.empty() && runs.back().second + 1 == h.number)
            runs.back().second = h.number;
        else
            runs.emplace_back(h.number, h.number);
        ++count;
    }
    std::string text(const std::string& single) const {
        if (count == 1) return single;
        const size_t w = padded ? digits : 0;
        std::string out = prefix + '[';
        for (size_t r = 0; r < runs.size(); ++r) {
            if (r) out += ',';
            out += pad(runs[r].first, w);
            if (runs[r].second != runs[r].first) out += '-' + pad(runs[r].second, w);
        }
        return out + ']';
    }
};

}  // namespace

std::string compress_hostlist(std::vector<std::string> names) {
    std::sort(names.begin(), names.end());
    names.erase(std::unique(names.begin(), names.end()), names.end());
    std::vector<Host> hosts;
    hosts.reserve(names.size());
    for (const auto& n : names) hosts.push_back(split(n));
    // Slurm's order: by prefix, bare names before numbered ones, then by number.
    std::sort(hosts.begin(), hosts.end(), [](const Host& a, const Host& b) {
        return std::tie(a.prefix, a.numbered, a.number, a.digits) <
               std::tie(b.prefix, b.numbered, b.number, b.digits);
    });
    std::string out;
    size_t i = 0;
    while (i < hosts.size()) {
        if (!out.empty()) out += ',';
        if (!hosts[i].numbered) {
            out += hosts[i++].name;
            continue;
        }
        Bracket b;
        b.prefix = hosts[i].prefix;
        const std::string first = hosts[i].name;
        while (i < hosts.size() && (b.count == 0 || b.accepts(hosts[i]))) b.add(hosts[i++]);
        out += b.text(first);
    }
    return out;
}

std::string slurm_name_problem(std::string_view name) {
    if (name.empty()) return "the name is empty";
    for (char c : name) {
        const auto u = static_cast<unsigned char>(c);
        if (std::isalnum(u) || c == '-' || c == '_' || c == '.') continue;
        return std::string("the character '") + c +
               "' is not allowed in a Slurm name (letters, digits, '-', '_' and '.' only)";
    }
    return {};
}

}  // namespace netplace::fabric
