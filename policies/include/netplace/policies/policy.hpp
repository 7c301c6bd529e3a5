#pragma once
// Placement policies: what the engine minimises (weights) and what it must never do (hard
// constraints, rules, residency, account ACLs). Loaded from strict YAML (docs/policies.md);
// every error is `file:line:col: message` with the fix.
#include "netplace/core/error.hpp"
#include "netplace/core/job.hpp"

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace netplace::policies {

// `enforce`: user hints can only narrow what the admin allows. `default`: a site the admin
// denied (or left out of an allow list) becomes eligible again when the job explicitly lists it
// in its allowed or preferred sites.
enum class Mode { enforce, default_ };

// What a policy minimises, in seconds-equivalent:
//   score = completion * total_s + transfer * (stage_in_s + stage_out_s)
//         + price * job_price + wan_gb * WAN gigabytes moved + penalties - bonuses.
struct Weights {
    double completion = 1.0;  // per second of estimated completion time
    double transfer = 0.0;    // extra weight per second spent moving data
    double price = 0.0;       // seconds one currency unit is worth
    double wan_gb = 0.0;      // seconds per GB (1e9 bytes) moved between sites
};

// The weights, one row each: the YAML key (policies, rules and user overrides), the member, and
// the help `netplace policy list` shows. Type: a number >= 0; default: Weights{}. Adding a
// weight: a member above, a row here, a term in the engine's score.
struct WeightField {
    const char* name;
    double Weights::*member;
    const char* help;
};
inline constexpr WeightField weight_fields[] = {
    {"completion", &Weights::completion,
     "weight per second of estimated completion (wait + stage-in + run + stage-out)"},
    {"transfer", &Weights::transfer,
     "extra weight per second spent moving data (stage-in + stage-out)"},
    {"price", &Weights::price, "seconds one currency unit of job price is worth"},
    {"wan_gb", &Weights::wan_gb, "seconds per GB (1e9 bytes) moved between sites"},
};
double* weight_field(Weights& w, std::string_view name);  // nullptr for an unknown name
std::string weight_list();                                // "completion, transfer, ..."

// Who a rule applies to. Empty lists and unset bounds match anything.
struct Match {
    std::vector<std::string> accounts, users, groups, partitions;
    std::optional<unsigned> min_cores, max_cores, min_gpus, max_gpus, min_nodes, max_nodes;
    std::optional<std::uint64_t> min_input_bytes, max_input_bytes;  // total input size
};

// The match fields, one row each: YAML key, kind, member, what of the job it compares, and how
// `policy list` and errors name it. The loader, `policy list` and the engine's rule matching all
// walk this table; adding a field is a member above and a row here.
struct MatchField {
    enum class Kind { names, min_count, max_count, min_size, max_size };
    const char* name;
    Kind kind;
    const char* help;
    const char* subject;                                      // "account", "cores", "input"
    std::vector<std::string> Match::*names = nullptr;         // Kind::names
    std::optional<unsigned> Match::*count = nullptr;          // min_count, max_count
    std::optional<std::uint64_t> Match::*size = nullptr;      // min_size, max_size
    std::string JobRequest::*job_text = nullptr;              // names: the job's value
    std::uint64_t (*job_count)(const JobRequest&) = nullptr;  // counts: the job's value
    // sizes compare the job's total input bytes
};
// 64-bit: cores are a product of two 32-bit counts.
inline std::uint64_t job_cores(const JobRequest& j) { return j.cores(); }
inline std::uint64_t job_gpus(const JobRequest& j) { return j.gpus; }
inline std::uint64_t job_nodes(const JobRequest& j) { return j.nodes; }
inline constexpr MatchField match_fields[] = {
    {.name = "account",
     .kind = MatchField::Kind::names,
     .help = "Slurm accounts (any of)",
     .subject = "account",
     .names = &Match::accounts,
     .job_text = &JobRequest::account},
    {.name = "user",
     .kind = MatchField::Kind::names,
     .help = "user names (any of)",
     .subject = "user",
     .names = &Match::users,
     .job_text = &JobRequest::user},
    {.name = "group",
     .kind = MatchField::Kind::names,
     .help = "Unix groups (any of)",
     .subject = "group",
     .names = &Match::groups,
     .job_text = &JobRequest::group},
    {.name = "partition",
     .kind = MatchField::Kind::names,
     .help = "partitions (any of)",
     .subject = "partition",
     .names = &Match::partitions,
     .job_text = &JobRequest::partition},
    {.name = "min_cores",
     .kind = MatchField::Kind::min_count,
     .help = "at least this many cores",
     .subject = "cores",
     .count = &Match::min_cores,
     .job_count = &job_cores},
    {.name = "max_cores",
     .kind = MatchField::Kind::max_count,
     .help = "at most this many cores",
     .subject = "cores",
     .count = &Match::max_cores,
     .job_count = &job_cores},
    {.name = "min_gpus",
     .kind = MatchField::Kind::min_count,
     .help = "at least this many GPUs",
     .subject = "GPUs",
     .count = &Match::min_gpus,
     .job_count = &job_gpus},
    {.name = "max_gpus",
     .kind = MatchField::Kind::max_count,
     .help = "at most this many GPUs",
     .subject = "GPUs",
     .count = &Match::max_gpus,
     .job_count = &job_gpus},
    {.name = "min_nodes",
     .kind = MatchField::Kind::min_count,
     .help = "at least this many nodes",
     .subject = "nodes",
     .count = &Match::min_nodes,
     .job_count = &job_nodes},
    {.name = "max_nodes",
     .kind = MatchField::Kind::max_count,
     .help = "at most this many nodes",
     .subject = "nodes",
     .count = &Match::max_nodes,
     .job_count = &job_nodes},
    {.name = "min_input",
     .kind = MatchField::Kind::min_size,
     .help = "total input size at least this (500G)",
     .subject = "input",
     .size = &Match::min_input_bytes},
    {.name = "max_input",
     .kind = MatchField::Kind::max_size,
     .help = "total input size at most this",
     .subject = "input",
     .size = &Match::max_input_bytes},
};

// What a policy (unconditionally) or a rule (when it matches) does.
struct Effects {
    Mode mode = Mode::enforce;
    std::vector<std::string> allow;  // non-empty: only these sites
    std::vector<std::string> deny;
    std::vector<std::string> require_features;
    std::vector<std::string> require_gpu_types;
    std::optional<double> max_stage_in_s;
    // At a site whose stage-in exceeds max_stage_in only because its links are busy (occupancy),
    // the job may wait up to this long for them to clear and then stage in alone, instead of
    // being sent elsewhere (docs/policies.md, "Waiting for a link").
    std::optional<double> wait_for_link_s;
    std::optional<double> min_bandwidth_bps;                // every link the job's data crosses
    std::vector<std::pair<std::string, double>> penalty_s;  // site -> seconds added to its score
    std::vector<std::pair<std::string, double>> bonus_s;    // site -> seconds taken off
    std::vector<std::pair<std::string, double>> weights;    // overrides while the rule matches
};

struct Rule {
    std::string name;
    Match match;
    std::optional<Match> unless;  // the rule does not apply to jobs this matches
    Effects effects;
    SourceLocation where;
};

struct Policy {
    std::string name;
    std::string description;
    Weights weights;
    std::vector<std::string> user_weights;  // weights a job may override
    double preferred_bonus_s = 300;         // taken off the score of the job's preferred sites
    Effects effects;
    std::vector<Rule> rules;  // applied in order; all matching rules apply
    bool builtin = false;     // one of the shipped presets
    SourceLocation where;
};

// Per-account site ACL, enforced under every policy.
struct AccountAcl {
    std::vector<std::string> allow;
    std::vector<std::string> deny;
};

// One tunable of a policy, for `netplace policy list`.
struct OptionInfo {
    std::string name;
    std::string value;     // in this policy
    std::string fallback;  // schema default
    std::string help;
};

struct PolicyInfo {
    std::string name;
    std::string description;
    bool builtin = false;
    bool is_default = false;
    bool user_selectable = false;
    std::string source;
    std::vector<OptionInfo> options;
    std::vector<std::string> rules;  // "name: summary"
};

class PolicySet {
  public:
    // Strict YAML (docs/policies.md). Unless the file says `presets: false`, the built-in
    // presets are available too; a policy of the same name in the file replaces the preset.
    static PolicySet load_file(const std::string& path);
    static PolicySet load_string(const std::string& yaml, const std::string& name);
    // The four presets shipped in etc/policies/: fastest, data-local, cheapest, balanced.
    static PolicySet builtin();

    const std::vector<Policy>& policies() const { return policies_; }
    const Policy* find(const std::string& name) const;
    const Policy& default_policy() const;
    const std::string& default_name() const { return default_; }
    // Whether a job may ask for this policy by name.
    bool user_selectable(const std::string& name) const;
    // Sites that may read data carrying `tag`; nullptr when the tag is not defined.
    const std::vector<std::string>* residency(const std::string& tag) const;
    // By Slurm's account name (case-insensitive: Slurm keeps account names in lower case).
    const AccountAcl* account(const std::string& account) const;
    const std::map<std::string, AccountAcl>& accounts() const { return accounts_; }
    const std::string& source() const { return source_; }

    std::vector<PolicyInfo> describe() const;

    // Admin constraints a job can step around by asking for another policy: the hard
    // constraints (enforce-mode deny/allow/require_*/max_stage_in/min_bandwidth) of a policy
    // other than the default bind only jobs placed under that policy, while the default policy's
    // bind every job (the engine applies them whichever policy a job selects). One warning per
    // such policy or rule, naming the policies that escape it and the fix; `policy check` prints
    // them as `file:line:col: warning: ...`.
    struct Warning {
        SourceLocation where;
        std::string message;
    };
    std::vector<Warning> selectable_escapes() const;

    // Site names the file mentions, with where; `netplace policy check --federation` verifies them.
    struct SiteMention {
        std::string site;
        SourceLocation where;
    };
    const std::vector<SiteMention>& site_mentions() const { return mentions_; }

  private:
    friend class Loader;
    std::vector<Policy> policies_;
    std::string default_;
    std::vector<std::string> selectable_;  // empty: every policy
    std::map<std::string, std::vector<std::string>> residency_;
    std::map<std::string, AccountAcl> accounts_;
    std::string source_;
    std::vector<SiteMention> mentions_;
};

std::string to_string(Mode mode);

}  // namespace netplace::policies
