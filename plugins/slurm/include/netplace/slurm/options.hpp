#pragma once
// The user-facing job options of the SPANK plugin (--place-*), their NETPLACE_* environment
// mirrors, and the plugstack.conf arguments. Pure parsing: no Slurm header, so it is unit-tested
// and shared by the SPANK plugin (client and slurmstepd) and the cli_filter Lua module.
#include "netplace/core/job.hpp"

#include <nlohmann/json_fwd.hpp>

#include <array>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace netplace::slurm {

// How tasks are bound inside the allocation. auto: GPU+NIC when the step has GPUs, else NUMA-
// spread cores; gpu-nic: always hand out the node's GPUs and their NICs; numa: cores only.
enum class Bind { automatic, none, gpu_nic, numa };
std::string to_string(Bind bind);
Bind parse_bind(std::string_view text);  // throws netplace::Error with the reason

// --place-sites: `auto` (default), `a,b` (only these, in order of preference), `!c` (avoid).
struct SiteChoice {
    std::vector<std::string> wanted;  // allowed, first = most preferred
    std::vector<std::string> avoided;
    bool automatic() const { return wanted.empty() && avoided.empty(); }
};
SiteChoice parse_sites(std::string_view text);
// --place-data: NAME (a dataset of the admin's catalog) or NAME@SITE:SIZE (one it does not know),
// comma-separated; SIZE as core/units (500G, 1.5TiB, 10GB). A bare name has an empty site and
// zero bytes until data::resolve_inputs fills them in from the catalog.
std::vector<Dataset> parse_data(std::string_view text);
// --place-policy: a policy name (letters, digits, '-', '_', '.'); whether the admin allows it is
// the engine's business.
std::string parse_policy_name(std::string_view text);
// --place-explain takes no value; its env mirror accepts 1/0, yes/no, true/false, on/off.
bool parse_flag(std::string_view text);

struct UserOptions {
    std::optional<SiteChoice> sites;
    std::optional<std::vector<Dataset>> data;
    std::optional<std::string> policy;
    bool explain = false;
    std::optional<Bind> bind;
    // Any option that asks netplace to choose the site (binding alone does not). Asking for the
    // explanation alone asks for a placement too: the user wants to see the sites compared.
    bool wants_placement() const {
        return sites.has_value() || data.has_value() || policy.has_value() || explain;
    }
};

struct OptionSpec {
    const char* name;     // without the leading "--"
    const char* arginfo;  // nullptr: a flag
    const char* usage;
    const char* env;  // NETPLACE_* mirror
    // Given, it asks netplace to choose the site (UserOptions::wants_placement() is then true).
    // The SPANK option callback and cli_filter.lua's hot-path check follow this column.
    bool asks_placement;
};
inline constexpr std::array<OptionSpec, 5> kOptions{{
    {"place-sites", "LIST",
     "[netplace] sites to use: a,b (allowed, preferred first), !c (avoid), auto", "NETPLACE_SITES",
     true},
    {"place-data", "NAME[@SITE:SIZE][,...]",
     "[netplace] input datasets: catalog names (imagenet) or your own as ds@beta:500G",
     "NETPLACE_DATA", true},
    {"place-policy", "NAME", "[netplace] named placement policy (one the admin allows)",
     "NETPLACE_POLICY", true},
    {"place-explain", nullptr, "[netplace] print the per-site placement explanation on stderr",
     "NETPLACE_EXPLAIN", true},
    {"place-bind", "auto|none|gpu-nic|numa", "[netplace] task binding inside the allocation",
     "NETPLACE_BIND", false},
}};

// Applies one option ("place-data" or "--place-data"); `value` is empty for the flag. Throws
// netplace::Error carrying only the reason (callers prefix "Invalid --place-...argument: ").
void apply_option(UserOptions& opts, std::string_view name, std::string_view value);
// Fills every option not given on the command line from its NETPLACE_* variable (option wins).
// Throws netplace::Error "NETPLACE_X=...: reason" for a bad value.
using GetEnv = std::function<std::optional<std::string>(const char* name)>;
void apply_env(UserOptions& opts, const std::vector<std::string>& given, const GetEnv& getenv);
// Parses the options as cli_filter's slurm.json_cli_options() renders them ("spank:place-data").
// Returns the names given (without "spank:").
std::vector<std::string> apply_cli_json(UserOptions& opts, const std::string& json_text);
// Same, from the already-parsed options object (what parse_submission() holds).
std::vector<std::string> apply_cli_json(UserOptions& opts, const nlohmann::json& options);

// The message Slurm's users see for a bad value, used by every door.
std::string invalid_message(std::string_view option, std::string_view why);

}  // namespace netplace::slurm
