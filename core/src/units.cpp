#include "netplace/core/units.hpp"

#include "netplace/core/error.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <limits>
#include <string>
#include <vector>

namespace netplace::units {
namespace {

std::string lower(std::string_view s) {
    std::string out(s);
    std::transform(out.begin(), out.end(), out.begin(),
                   [](unsigned char c) { return std::tolower(c); });
    return out;
}

std::string_view trim(std::string_view s) {
    while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
    while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
    return s;
}

// Splits "12.5GiB" into 12.5 and "GiB". Returns false when no number leads.
bool split_number(std::string_view s, double& value, std::string_view& unit) {
    s = trim(s);
    size_t i = 0;
    while (i < s.size() && (std::isdigit(static_cast<unsigned char>(s[i])) || s[i] == '.')) ++i;
    if (i == 0) return false;
    auto [ptr, ec] = std::from_chars(s.data(), s.data() + i, value);
    if (ec != std::errc() || ptr != s.data() + i || !std::isfinite(value)) return false;
    unit = trim(s.substr(i));
    return true;
}

}  // namespace

std::uint64_t parse_size(std::string_view text) {
    double v = 0;
    std::string_view unit;
    auto bad = [&] {
        return Error("invalid size '" + std::string(text) +
                     "': use a number with an optional unit, e.g. 500G, 1.5TiB, 200MB or 4096");
    };
    if (!split_number(text, v, unit)) throw bad();
    const std::string u = lower(unit);
    double mult = 0;
    if (u.empty() || u == "b")
        mult = 1;
    else if (u == "k" || u == "kib")
        mult = 1024.0;
    else if (u == "m" || u == "mib")
        mult = std::pow(1024.0, 2);
    else if (u == "g" || u == "gib")
        mult = std::pow(1024.0, 3);
    else if (u == "t" || u == "tib")
        mult = std::pow(1024.0, 4);
    else if (u == "p" || u == "pib")
        mult = std::pow(1024.0, 5);
    else if (u == "kb")
        mult = 1e3;
    else if (u == "mb")
        mult = 1e6;
    else if (u == "gb")
        mult = 1e9;
    else if (u == "tb")
        mult = 1e12;
    else if (u == "pb")
        mult = 1e15;
    else
        throw bad();
    const double bytes = std::round(v * mult);
    // 2^64 exactly: the first double that no longer fits (llround would overflow from 2^63 on).
    if (!(bytes < 18446744073709551616.0))
        throw Error("size '" + std::string(text) + "' is too large (limit 16 EiB)");
    return static_cast<std::uint64_t>(bytes);
}

double parse_rate_bps(std::string_view text) {
    double v = 0;
    std::string_view unit;
    auto bad = [&] {
        return Error(
            "invalid rate '" + std::string(text) +
            "': use bits per second with a unit, e.g. 10Gbit/s, 400Mbps, 1G, or bytes as 125MB/s");
    };
    if (!split_number(text, v, unit)) throw bad();
    double mult = 1;
    if (!unit.empty()) {
        switch (unit.front()) {
            case 'k':
            case 'K':
                mult = 1e3;
                break;
            case 'm':
            case 'M':
                mult = 1e6;
                break;
            case 'g':
            case 'G':
                mult = 1e9;
                break;
            case 't':
            case 'T':
                mult = 1e12;
                break;
            default:
                break;
        }
        if (mult != 1) unit.remove_prefix(1);
    }
    // Upper-case B means bytes (network convention: Gbps vs GBps); everything else is bits.
    static const std::string_view bit_units[] = {"", "bit/s", "bits/s", "bps", "bit", "b/s", "b"};
    static const std::string_view byte_units[] = {"B/s", "Bps", "B", "byte/s", "bytes/s"};
    for (auto u : bit_units)
        if (unit == u) return v * mult;
    for (auto u : byte_units)
        if (unit == u) return v * mult * 8.0;
    throw bad();
}

namespace {
double parse_duration_unchecked(std::string_view text);
}

double parse_duration_s(std::string_view text) {
    const double s = parse_duration_unchecked(text);
    if (!(s <= kMaxDurationS))
        throw Error(fmt::format("duration '{}' is too long (limit {} days, 100 years)", text,
                                kMaxDurationS / 86400));
    return s;
}

namespace {
double parse_duration_unchecked(std::string_view text) {
    const std::string_view t = trim(text);
    auto bad = [&] {
        return Error("invalid duration '" + std::string(text) +
                     "': use e.g. 90s, 15m, 1h30m, 12ms, 2d, or Slurm's [D-]HH:MM:SS");
    };
    if (t.empty()) throw bad();
    // Slurm forms.
    if (t.find(':') != std::string_view::npos || t.find('-') != std::string_view::npos) {
        double days = 0;
        std::string_view rest = t;
        if (auto dash = t.find('-'); dash != std::string_view::npos) {
            std::string_view unit;
            if (!split_number(t.substr(0, dash), days, unit) || !unit.empty()) throw bad();
            rest = t.substr(dash + 1);
        }
        std::vector<double> parts;
        size_t start = 0;
        while (true) {
            const size_t colon = rest.find(':', start);
            double v = 0;
            std::string_view unit;
            if (!split_number(rest.substr(start, colon - start), v, unit) || !unit.empty())
                throw bad();
            parts.push_back(v);
            if (colon == std::string_view::npos) break;
            start = colon + 1;
        }
        if (parts.size() > 3) throw bad();
        double secs = 0;
        if (t.find('-') != std::string_view::npos) {
            // D-HH, D-HH:MM, D-HH:MM:SS
            const double mults[] = {3600, 60, 1};
            for (size_t i = 0; i < parts.size(); ++i) secs += parts[i] * mults[i];
        } else if (parts.size() == 2) {
            secs = parts[0] * 60 + parts[1];
        } else {
            secs = parts[0] * 3600 + parts[1] * 60 + parts[2];
        }
        return days * 86400 + secs;
    }
    double total = 0;
    std::string_view rest = t;
    while (!rest.empty()) {
        double v = 0;
        std::string_view unit;
        if (!split_number(rest, v, unit)) throw bad();
        size_t ulen = 0;
        while (ulen < unit.size() && std::isalpha(static_cast<unsigned char>(unit[ulen]))) ++ulen;
        const std::string u = lower(unit.substr(0, ulen));
        double mult = 0;
        if (u.empty() || u == "s" || u == "sec")
            mult = 1;
        else if (u == "ms")
            mult = 1e-3;
        else if (u == "us")
            mult = 1e-6;
        else if (u == "m" || u == "min")
            mult = 60;
        else if (u == "h")
            mult = 3600;
        else if (u == "d")
            mult = 86400;
        else
            throw bad();
        total += v * mult;
        rest = trim(unit.substr(ulen));
        if (u.empty() && !rest.empty()) throw bad();
    }
    return total;
}
}  // namespace

std::string format_size(std::uint64_t bytes) {
    static const char* names[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
    double v = static_cast<double>(bytes);
    int i = 0;
    while (v >= 1024.0 && i < 6) {
        v /= 1024.0;
        ++i;
    }
    if (i == 0) return fmt::format("{} B", bytes);
    return fmt::format("{:.{}f} {}", v, v < 10 ? 2 : (v < 100 ? 1 : 0), names[i]);
}

std::string format_rate(double bps) {
    static const char* names[] = {"bit/s", "kbit/s", "Mbit/s", "Gbit/s", "Tbit/s"};
    double v = bps;
    int i = 0;
    while (std::fabs(v) >= 1000.0 && i < 4) {
        v /= 1000.0;
        ++i;
    }
    return fmt::format("{:.{}f} {}", v, std::fabs(v) < 10 ? 2 : (std::fabs(v) < 100 ? 1 : 0),
                       names[i]);
}

std::string format_duration(double seconds) {
    if (!std::isfinite(seconds)) return "inf";
    // Figures computed from other figures (waits from a site's load, transfers of 16 EiB) may
    // exceed any parsed duration; llround below is only defined up to 2^63.
    if (std::fabs(seconds) > kMaxDurationS) return fmt::format("{:.3g}d", seconds / 86400);
    if (seconds < 1.0) return fmt::format("{:.0f} ms", seconds * 1000.0);
    if (seconds < 60.0) return fmt::format("{:.1f} s", seconds);
    const auto s = static_cast<long long>(std::llround(seconds));
    if (s < 3600) return fmt::format("{}m{:02d}s", s / 60, static_cast<int>(s % 60));
    if (s < 86400) return fmt::format("{}h{:02d}m", s / 3600, static_cast<int>((s % 3600) / 60));
    return fmt::format("{}d{:02d}h", s / 86400, static_cast<int>((s % 86400) / 3600));
}

}  // namespace netplace::units
