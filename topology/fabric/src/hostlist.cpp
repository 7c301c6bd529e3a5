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
    size_t width = 0;  // zero-padded digits as written ("007" -> 3); 0 when not padded
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
        h.width = name.size() - i;
        // Only zero-padded numbers fix a width ("007"); plain ones combine across widths
        // (node9,node10 -> node[9-10]), as Slurm does.
        if (std::to_string(h.number).size() == h.width) h.width = 0;
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

}  // namespace

std::string compress_hostlist(std::vector<std::string> names) {
    std::sort(names.begin(), names.end());
    names.erase(std::unique(names.begin(), names.end()), names.end());
    std::vector<Host> hosts;
    hosts.reserve(names.size());
    for (const auto& n : names) hosts.push_back(split(n));
    // Slurm's order: by prefix, then numbered after bare, then by number.
    std::sort(hosts.begin(), hosts.end(), [](const Host& a, const Host& b) {
        return std::tie(a.prefix, a.numbered, a.width, a.number) <
               std::tie(b.prefix, b.numbered, b.width, b.number);
    });
    std::string out;
    size_t i = 0;
    while (i < hosts.size()) {
        const Host& h = hosts[i];
        if (!out.empty()) out += ',';
        if (!h.numbered) {
            out += h.name;
            ++i;
            continue;
        }
        // One bracket per (prefix, width): runs of consecutive numbers inside it.
        size_t j = i;
        std::vector<std::pair<unsigned long, unsigned long>> runs;
        while (j < hosts.size() && hosts[j].numbered && hosts[j].prefix == h.prefix &&
               hosts[j].width == h.width) {
            if (!runs.empty() && runs.back().second + 1 == hosts[j].number)
                runs.back().second = hosts[j].number;
            else
                runs.emplace_back(hosts[j].number, hosts[j].number);
            ++j;
        }
        if (j - i == 1) {
            out += h.name;
        } else {
            out += h.prefix + '[';
            for (size_t r = 0; r < runs.size(); ++r) {
                if (r) out += ',';
                out += pad(runs[r].first, h.width);
                if (runs[r].second != runs[r].first) out += '-' + pad(runs[r].second, h.width);
            }
            out += ']';
        }
        i = j;
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
