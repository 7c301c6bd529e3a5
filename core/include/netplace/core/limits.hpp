#pragma once
// Size caps of the files netplace reads, one row each (name, default, what it bounds). A file
// larger than its cap is refused before it is read: a corrupt or hostile file must not exhaust
// memory on a login node or inside slurmd. The defaults are generous; the admin sets any of them
// in one place, the federation file's `limits:` (topology/network/src/federation.cpp walks this
// table), which every door loads first. docs/configuration of the caps: docs/network.md.
#include <array>
#include <cstdint>
#include <optional>
#include <string_view>

namespace netplace::limits {

enum class Cap : unsigned {
    input_file,    // YAML files (policy, job, catalog, data model) and job JSON
    state_file,    // sites.json, slurm-controllers.json, slurm-accounts.json, transfers.json, ...
    link_state,    // links.json
    import_file,   // `probe import` inputs and the CSV matrices `sim --links` reads
    peer_staging,  // <links.json>.staging: peers' staging ledgers and replicas, merged
};

struct CapInfo {
    Cap cap;
    const char* name;  // the key under `limits:`
    std::uint64_t default_bytes;
    const char* help;
};

// The table, in Cap order.
const std::array<CapInfo, 5>& caps();
std::optional<Cap> find(std::string_view name);
const CapInfo& info(Cap cap);

// The cap in force for this process: the admin's value once a federation file set it, else the
// default. Thread-safe (the daemon reads files from several threads).
std::uint64_t bytes(Cap cap);
void set(Cap cap, std::uint64_t bytes);
// Back to the defaults (tests; a reloaded federation file without `limits:`).
void reset();

// No cap may be set below this: a federation file must not make every state file unreadable.
inline constexpr std::uint64_t kMinCapBytes = 4096;

}  // namespace netplace::limits
