#pragma once
// Human quantities as admins and users write them: sizes ("500G", "1.5TiB"), rates
// ("10Gbit/s", "400Mbps"), durations ("90s", "1h30m", "2-00:00:00", "12ms").
// Parsers throw netplace::Error naming the text and the accepted forms.
#include <cstdint>
#include <string>
#include <string_view>

namespace netplace::units {

// Bytes. Suffixes K/M/G/T/P are binary (Slurm's convention: --mem=4G is 4 GiB); KB/MB/GB/TB/PB
// are decimal; KiB/MiB/... binary; no suffix = bytes.
std::uint64_t parse_size(std::string_view text);
// Bits per second: "10Gbit/s", "10Gbps", "10G" (bits), "125MB/s" (bytes: ×8).
double parse_rate_bps(std::string_view text);
// Seconds: plain number = seconds; "ms", "s", "m"/"min", "h", "d" units and combinations
// ("1h30m"); Slurm time forms "MM:SS", "HH:MM:SS", "D-HH[:MM[:SS]]".
// Longer than kMaxDurationS (100 years) is refused: every sum of durations stays finite and
// exact enough, and Slurm's own limit (minutes in 32 bits) is larger than any sensible value.
inline constexpr double kMaxDurationS = 36500.0 * 86400.0;
double parse_duration_s(std::string_view text);

std::string format_size(std::uint64_t bytes);  // "1.5 GiB"
std::string format_rate(double bps);           // "9.87 Gbit/s"
std::string format_duration(double seconds);   // "1h02m", "12.3 s", "850 ms"

}  // namespace netplace::units
