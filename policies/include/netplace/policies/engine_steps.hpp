#pragma once
// The placement engine's steps, in the order place() runs them (each unit-testable alone):
//
//   1. choose_policy      the policy the job asked for, if users may choose it, else the default
//   2. active_effects     the policy's own effects, then every rule that matches the job
//      effective_weights  the policy's weights, the job's allowed overrides, then the rules'
//      job_facts          all of the above plus per-job facts every site reads (data grouped by
//                         source site, residency, output home, account ACL), computed once
//   3. estimate_site      wait, stage-in, run, stage-out, price, score terms and notes of one site
//   4. site_checks()      a list of small named checks; each returns why the site may not run the
//                         job (or nothing); all reasons of a site are joined with "; "
//   5. rank               eligible sites by (score, total, name), excluded after, federation order
//
// Adding a check: write `std::optional<std::string> f(const JobFacts&, const SiteCandidate&,
// std::vector<std::string>& notes)` in engine.cpp and add {name, f} to site_checks() where its
// reasons should appear. Adding an input: a field of PlacementInputs (inputs.hpp) that a step or
// check reads through JobFacts::in.
#include "netplace/core/job.hpp"
#include "netplace/policies/inputs.hpp"
#include "netplace/policies/policy.hpp"

#include <cstdint>
#include <limits>
#include <optional>
#include <span>
#include <string>
#include <utility>
#include <vector>

namespace netplace::policies {

// Who imposed an effect: the policy itself (rule == nullptr) or one of its rules.
struct EffectSource {
    const Effects* effects = nullptr;
    const Rule* rule = nullptr;
};

// "policy 'x'" or "policy 'x' rule 'y'", for messages.
std::string origin(const Policy& policy, const EffectSource& source);

// Step 1. Appends to `warnings` when the job's choice is refused or the set is empty.
const Policy& choose_policy(const JobRequest& job, const PolicySet& set,
                            std::vector<std::string>& warnings);
// Step 2.
bool rule_matches(const Match& match, const JobRequest& job, std::uint64_t input_bytes);
std::vector<EffectSource> active_effects(const Policy& policy, const JobRequest& job);
Weights effective_weights(const Policy& policy, std::span<const EffectSource> active,
                          const JobRequest& job, std::vector<std::string>& warnings);

// Bytes that leave one source site for the candidate: datasets at the same site share its link.
struct SourceGroup {
    int site = -1;  // index into federation.sites; -1: not a federation site
    const std::string* name = nullptr;
    std::uint64_t bytes = 0;
    const Dataset* first = nullptr;
    // Bytes of this group that already have a copy at a site (PlacementInputs::replicas), by site
    // index: that site reads them locally, and a site holding all of them is a stage-in source
    // for other sites as good as the data's own (estimate_site takes the fastest link).
    std::vector<std::pair<std::uint32_t, std::uint64_t>> local;
};

// A tagged dataset and the sites that may read it (nullptr: tag undefined, only its own site).
struct ResidencyRule {
    const Dataset* dataset = nullptr;
    const std::vector<std::string>* sites = nullptr;
};

struct JobFacts;
struct SiteCandidate;
// A check: why the site may not run the job, or nothing; it may add notes.
using SiteCheckFn = std::optional<std::string> (*)(const JobFacts&, const SiteCandidate&,
                                                   std::vector<std::string>& notes);

// What a job's hints and its policy's site lists say of one site, resolved once per job
// (JobFacts::marks): the per-site steps test a bit instead of comparing the site's name with
// every list; only a marked site goes on to build its note or reason.
enum SiteMark : std::uint8_t {
    kNamed = 1,         // the job lists it as allowed or preferred
    kPreferred = 2,     // the job prefers it
    kAvoided = 4,       // the job avoids it
    kJobAllowed = 8,    // among the job's allowed sites
    kPolicySites = 16,  // an effect in force denies it or leaves it out of its allow list
    kAdjusted = 32,     // an effect in force has a penalty or bonus for it
};

// Everything the per-site steps read, computed once per job.
struct JobFacts {
    const JobRequest* job = nullptr;
    const PlacementInputs* in = nullptr;
    const Policy* policy = nullptr;
    std::vector<EffectSource> active;
    Weights weights;
    std::vector<SourceGroup> groups;
    std::vector<ResidencyRule> residency;
    std::string home;   // output home site ("" when none)
    int home_idx = -1;  // its index; -1 when not a federation site or no output
    const AccountAcl* acl = nullptr;
    // The job names no account (none given, none resolved by its door) while the policy file
    // has ACLs: only the sites every ACL permits (check "account-acl").
    bool account_unknown = false;
    // When the job selected another policy than the default: the default policy and its hard
    // constraints in force for this job (enforce mode only). Admin constraints bind whatever
    // policy a job selects; a selectable policy can only narrow (check "admin-policy").
    const Policy* admin = nullptr;
    std::vector<EffectSource> admin_active;
    // The strictest min_bandwidth / max_stage_in of the effects in force (0 / infinity: none),
    // so the per-site checks look at each effect only for a site that breaks one of them.
    double min_bandwidth_bps = 0;
    double max_stage_in_s = std::numeric_limits<double>::infinity();
    double run_ref_s = 0;   // runtime at a speed-1 site
    std::string run_basis;  // where run_ref_s comes from (PlacementDecision::run_basis)
    // How long the job may wait for busy links at a site they would otherwise exclude by
    // max_stage_in (wait_for_link); unset: no waiting.
    std::optional<double> wait_for_link_s;
    std::uint64_t cores = 0;          // 64-bit: tasks x cpus_per_task
    std::vector<std::uint8_t> marks;  // SiteMark bits by site index
    // The checks that can say anything about this job (a job without residency tags skips the
    // residency check, ...): bit k set = site_checks()[k] runs; the per-site loop runs only
    // these, in site_checks() order.
    std::uint32_t checks = 0;
};
// Steps 1-2 plus the per-job facts; job warnings are appended to `warnings`.
JobFacts job_facts(const JobRequest& job, const PlacementInputs& in,
                   std::vector<std::string>& warnings);

// One directed transfer's figures, from the estimate or the federation's defaults.
struct LinkUse {
    double bandwidth_bps = 0;
    double latency_s = 0;
    bool known = false;  // false: nothing known of the pair, the federation's defaults
    double seconds = 0;  // to move the bytes it carries
    // The estimate's health and whether it was measured (copies: the engine reads these per
    // site without touching the estimate itself).
    LinkHealth health = LinkHealth::unknown;
    bool measured = false;
    unsigned queued_transfers = 0;  // occupancy: transfers already on the link, their bytes left
    double queued_bytes = 0;
    // Where the bytes leave from when that is not the data's own site (SourceGroup::site): a
    // site holding a copy of the whole group whose link is faster (the nearest replica); -1:
    // the data's own site.
    int from = -1;
};

// One site under evaluation: step 3 fills it, step 4 reads it.
struct SiteCandidate {
    std::size_t index = 0;
    const Site* site = nullptr;
    bool user_named = false;  // the job lists it as allowed or preferred
    // Parallel to JobFacts::groups; unset for a group already at this site.
    std::vector<std::optional<LinkUse>> inputs;
    std::optional<LinkUse> output;     // set when the output leaves this site
    SiteEstimate* estimate = nullptr;  // the site's ranking entry
};

// Step 3: fills `estimate` (a default-constructed SiteEstimate, in place: the ranking's entry)
// and `c`. Counts links the estimate used without a measurement in `unmeasured`.
void estimate_site(const JobFacts& facts, std::size_t site, SiteEstimate& estimate,
                   SiteCandidate& c, unsigned& unmeasured);

// Step 4.
struct SiteCheck {
    const char* name;
    SiteCheckFn check;
    bool (*relevant)(const JobFacts&);  // nullptr: for every job
};
// In the order their reasons appear: links, the job's own wishes, admin rules, site abilities.
std::span<const SiteCheck> site_checks();
// Runs the job's checks (JobFacts::checks) on `c`, joining reasons into c.estimate->excluded and
// notes into its notes.
void apply_checks(const JobFacts& facts, SiteCandidate& c);

// Step 5. Orders d.ranking and sets d.site / d.cluster.
void rank(PlacementDecision& d, const Federation& fed);

}  // namespace netplace::policies
