#pragma once
// Placement policies: what the engine minimises (weights) and what it must never do (hard
// constraints, rules, residency, account ACLs). Loaded from strict YAML (docs/policies.md);
// every error is `file:line:col: message` with the fix.
#include "netplace/core/error.hpp"

#include <cstdint>
#include <map>
#include <optional>
#include <string>
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

// Names of the weights, as they appear in YAML and in user overrides.
inline constexpr const char* weight_names[] = {"completion", "transfer", "price", "wan_gb"};
double* weight_field(Weights& w, const std::string& name);  // nullptr for an unknown name

// Who a rule applies to. Empty lists and unset bounds match anything.
struct Match {
    std::vector<std::string> accounts, users, groups, partitions;
    std::optional<unsigned> min_cores, max_cores, min_gpus, max_gpus, min_nodes, max_nodes;
    std::optional<std::uint64_t> min_input_bytes, max_input_bytes;  // total input size
};

// What a policy (unconditionally) or a rule (when it matches) does.
struct Effects {
    Mode mode = Mode::enforce;
    std::vector<std::string> allow;  // non-empty: only these sites
    std::vector<std::string> deny;
    std::vector<std::string> require_features;
    std::vector<std::string> require_gpu_types;
    std::optional<double> max_stage_in_s;
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
    const AccountAcl* account(const std::string& account) const;
    const std::string& source() const { return source_; }

    std::vector<PolicyInfo> describe() const;

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
