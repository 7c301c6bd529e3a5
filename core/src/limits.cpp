#include "netplace/core/limits.hpp"

#include <atomic>

namespace netplace::limits {
namespace {

constexpr std::array<CapInfo, 5> kCaps{{
    {Cap::input_file, "input_file", 16ull << 20,
     "YAML files (policy, job, dataset catalog, data model, a reloaded federation file) and "
     "job JSON, also on stdin (`place --job -`, `slurm decide`)"},
    {Cap::state_file, "state_file", 16ull << 20,
     "state files placement reads: sites.json, slurm-controllers.json, slurm-accounts.json, "
     "transfers.json, replicas.json, the exchange's site-state and status files, this site's "
     "published snapshot when it is re-read, a stage-in's resume map"},
    {Cap::link_state, "link_state", 32ull << 20,
     "links.json (about 30 MB holds the JSON of 10^5 links; peers' links are in the binary "
     "peers file, sized from the federation)"},
    {Cap::import_file, "import_file", 256ull << 20,
     "measurements imported with `netplace probe import`, CSV matrices given to "
     "`sim --links`, ibnetdiscover output given to `fabric` (file or stdin)"},
    {Cap::peer_staging, "peer_staging", 256ull << 20,
     "<links.json>.staging: the staging ledgers and replica lists of every peer, merged by the "
     "exchange (each peer's share arrived in a snapshot of at most exchange.max_bytes)"},
}};

// Static storage of atomics (no copy: an array of atomics cannot be returned from a lambda);
// the defaults are written once, on first use.
std::array<std::atomic<std::uint64_t>, kCaps.size()>& current() {
    static std::array<std::atomic<std::uint64_t>, kCaps.size()> c;
    static const bool init = [] {
        for (std::size_t i = 0; i < kCaps.size(); ++i) c[i] = kCaps[i].default_bytes;
        return true;
    }();
    (void)init;
    return c;
}

}  // namespace

const std::array<CapInfo, 5>& caps() { return kCaps; }

std::optional<Cap> find(std::string_view name) {
    for (const auto& c : kCaps)
        if (name == c.name) return c.cap;
    return std::nullopt;
}

const CapInfo& info(Cap cap) { return kCaps[static_cast<unsigned>(cap)]; }

std::uint64_t bytes(Cap cap) {
    return current()[static_cast<unsigned>(cap)].load(std::memory_order_relaxed);
}

void set(Cap cap, std::uint64_t b) {
    current()[static_cast<unsigned>(cap)].store(b < kMinCapBytes ? kMinCapBytes : b,
                                                std::memory_order_relaxed);
}

void reset() {
    for (const auto& c : kCaps) set(c.cap, c.default_bytes);
}

}  // namespace netplace::limits
