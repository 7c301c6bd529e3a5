#include "netplace/policies/policy.hpp"

#include "netplace/core/job.hpp"
#include "netplace/core/units.hpp"
#include "netplace/core/yaml.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <sstream>

namespace netplace::policies {

// Generated at build time from etc/policies/*.yaml (policies/CMakeLists.txt).
extern const char* const preset_names[];
extern const char* const preset_texts[];
extern const unsigned preset_count;

namespace {

std::string fmt_number(double v) {
    std::ostringstream os;
    os << v;
    return os.str();
}

bool contains(const std::vector<std::string>& v, const std::string& s) {
    return std::find(v.begin(), v.end(), s) != v.end();
}

}  // namespace

double* weight_field(Weights& w, std::string_view name) {
    for (const auto& f : weight_fields)
        if (name == f.name) return &(w.*f.member);
    return nullptr;
}

std::string weight_list() {
    std::string out;
    for (const auto& f : weight_fields) out += (out.empty() ? "" : ", ") + std::string(f.name);
    return out;
}

std::string to_string(Mode mode) { return mode == Mode::enforce ? "enforce" : "default"; }

// Reads one policy file into a PolicySet. A class (not free functions) so it may fill the
// set's private members; friend of PolicySet.
class Loader {
  public:
    Loader(PolicySet& set, const yaml::Doc& doc) : set_(set), file_(doc.file()), doc_(doc) {}

    void load(bool allow_presets) {
        const YAML::Node& root = doc_.root();
        if (root.IsNull()) {
            yaml::fail(file_, root,
                       "policy file is empty: it needs at least `policies:` or `default:` "
                       "(see docs/policies.md)");
        }
        yaml::check_map(file_, root, "policy file",
                        {"version", "default", "presets", "user_selectable", "residency",
                         "accounts", "policies"});
        if (auto v = root["version"]) {
            const auto n = yaml::as_integer(file_, v, "version", 1, 1000);
            if (n != 1)
                yaml::fail(file_, v,
                           "policy file version " + std::to_string(n) +
                               " is newer than this netplace understands (1): upgrade netplace");
        }
        bool presets = true;
        if (auto p = root["presets"]) presets = yaml::as_bool(file_, p, "presets");
        if (presets && allow_presets) set_.policies_ = PolicySet::builtin().policies_;

        if (auto r = root["residency"]) load_residency(r);
        if (auto a = root["accounts"]) load_accounts(a);
        if (auto ps = root["policies"]) {
            if (!ps.IsSequence())
                yaml::fail(file_, ps, "policies must be a list of policies (`- name: ...`)");
            std::vector<std::string> seen;
            for (const auto& p : ps) {
                Policy pol = load_policy(p);
                if (contains(seen, pol.name)) {
                    yaml::fail(file_, p["name"],
                               "policy '" + pol.name + "' is defined twice: rename one of them");
                }
                seen.push_back(pol.name);
                auto it = std::find_if(set_.policies_.begin(), set_.policies_.end(),
                                       [&](const Policy& q) { return q.name == pol.name; });
                if (it != set_.policies_.end())
                    *it = std::move(pol);
                else
                    set_.policies_.push_back(std::move(pol));
            }
        }
        if (set_.policies_.empty()) {
            yaml::fail(file_, root, "no policies: add a `policies:` list or leave `presets` on");
        }
        if (auto d = root["default"]) {
            set_.default_ = yaml::as_name(file_, d, "default");
            if (!set_.find(set_.default_)) {
                yaml::fail(file_, d,
                           "default policy '" + set_.default_ + "' is not defined" +
                               suggest(set_.default_));
            }
        } else if (set_.find("balanced")) {
            set_.default_ = "balanced";
        } else {
            set_.default_ = set_.policies_.front().name;
        }
        if (auto u = root["user_selectable"]) {
            for (const auto& item : items(u)) {
                const std::string n = yaml::as_name(file_, item, "user_selectable entry");
                if (!set_.find(n))
                    yaml::fail(file_, item,
                               "user_selectable names unknown policy '" + n + "'" + suggest(n));
                set_.selectable_.push_back(n);
            }
        }
    }

  private:
    // A scalar or a list, as nodes (so errors point at the item).
    std::vector<YAML::Node> items(const YAML::Node& n) {
        std::vector<YAML::Node> out;
        if (n.IsScalar())
            out.push_back(n);
        else if (n.IsSequence())
            for (const auto& i : n) out.push_back(i);
        else
            yaml::fail(file_, n, "expected a name or a list of names");
        return out;
    }

    std::string suggest(const std::string& name) const {
        std::vector<std::string> names;
        for (const auto& p : set_.policies_) names.push_back(p.name);
        if (auto c = yaml::closest(name, names)) return ": did you mean '" + *c + "'?";
        std::string all;
        for (const auto& n : names) all += (all.empty() ? "" : ", ") + n;
        return ": defined policies are " + all;
    }

    std::vector<std::string> sites(const YAML::Node& n, const std::string& what) {
        if (!n.IsSequence() && !n.IsScalar()) {
            yaml::fail(file_, n, what + " must be a site name or a list of site names");
        }
        std::vector<std::string> out;
        auto one = [&](const YAML::Node& item) {
            std::string s = yaml::as_name(file_, item, what + " entry");
            set_.mentions_.push_back({s, yaml::where(file_, item)});
            out.push_back(std::move(s));
        };
        if (n.IsScalar())
            one(n);
        else
            for (const auto& item : n) one(item);
        return out;
    }

    std::vector<std::string> names(const YAML::Node& n, const std::string& what) {
        std::vector<std::string> out;
        if (n.IsScalar()) {
            out.push_back(yaml::as_name(file_, n, what));
        } else if (n.IsSequence()) {
            for (const auto& item : n) out.push_back(yaml::as_name(file_, item, what + " entry"));
        } else {
            yaml::fail(file_, n, what + " must be a name or a list of names");
        }
        return out;
    }

    void load_residency(const YAML::Node& r) {
        if (!r.IsMap())
            yaml::fail(file_, r,
                       "residency must map a tag to the sites that may read it, e.g. `eu-only: "
                       "[alpha, beta]`");
        for (const auto& kv : r) {
            const std::string tag = yaml::as_name(file_, kv.first, "residency tag");
            set_.residency_[tag] = sites(kv.second, "residency '" + tag + "'");
        }
    }

    void load_accounts(const YAML::Node& a) {
        if (!a.IsMap())
            yaml::fail(file_, a, "accounts must map an account to `{allow: [...], deny: [...]}`");
        for (const auto& kv : a) {
            // Slurm's spelling: `Guests` and `guests` are one account.
            const std::string acct = slurm_account_name(yaml::as_name(file_, kv.first, "account"));
            const std::string what = "account '" + acct + "'";
            if (set_.accounts_.count(acct))
                yaml::fail(file_, kv.first,
                           what + " is listed twice (Slurm account names ignore case)");
            yaml::check_map(file_, kv.second, what, {"allow", "deny"});
            AccountAcl acl;
            if (auto x = kv.second["allow"]) acl.allow = sites(x, what + " allow");
            if (auto x = kv.second["deny"]) acl.deny = sites(x, what + " deny");
            set_.accounts_[acct] = std::move(acl);
        }
    }

    std::vector<std::pair<std::string, double>> site_seconds(const YAML::Node& n,
                                                             const std::string& what) {
        if (!n.IsMap())
            yaml::fail(file_, n, what + " must map a site to a duration, e.g. `{gamma: 10m}`");
        std::vector<std::pair<std::string, double>> out;
        for (const auto& kv : n) {
            const std::string s = yaml::as_name(file_, kv.first, what + " site");
            set_.mentions_.push_back({s, yaml::where(file_, kv.first)});
            out.emplace_back(s, yaml::as_duration_s(file_, kv.second, what + " for '" + s + "'"));
        }
        return out;
    }

    std::vector<std::pair<std::string, double>> weights(const YAML::Node& n,
                                                        const std::string& what) {
        if (!n.IsMap())
            yaml::fail(file_, n,
                       what + " must be a mapping such as `{completion: 1, price: 3600}`");
        std::vector<std::pair<std::string, double>> out;
        for (const auto& kv : n) {
            if (!kv.first.IsScalar())  // `{[a]: 1}`: the file's error, not yaml-cpp's exception
                yaml::fail(file_, kv.first,
                           "a key in " + what + " must be a weight name (write `name: value`)");
            const std::string k = kv.first.Scalar();
            if (!weight_field(scratch_, k)) {
                std::vector<std::string> known;
                for (const auto& f : weight_fields) known.emplace_back(f.name);
                const auto c = yaml::closest(k, known);
                yaml::fail(
                    file_, kv.first,
                    "unknown key '" + k + "' in " + what +
                        (c ? ": did you mean '" + *c + "'?" : ": valid keys are " + weight_list()));
            }
            out.emplace_back(k, yaml::as_number(file_, kv.second, what + " " + k, 0, 1e12));
        }
        return out;
    }

    Mode mode(const YAML::Node& n) {
        const std::string s = yaml::as_string(file_, n, "mode");
        if (s == "enforce") return Mode::enforce;
        if (s == "default") return Mode::default_;
        yaml::fail(file_, n,
                   "mode must be 'enforce' (user hints can only narrow) or 'default' "
                   "(a job may re-allow a site by naming it), not '" +
                       s + "'");
    }

    // Keys shared by policies and rules.
    void load_effects(const YAML::Node& n, Effects& e, const std::string& what) {
        if (auto x = n["mode"]) e.mode = mode(x);
        if (auto x = n["allow"]) e.allow = sites(x, what + " allow");
        if (auto x = n["deny"]) e.deny = sites(x, what + " deny");
        if (auto x = n["require_features"])
            e.require_features = names(x, what + " require_features");
        if (auto x = n["require_gpu_types"])
            e.require_gpu_types = names(x, what + " require_gpu_types");
        if (auto x = n["max_stage_in"])
            e.max_stage_in_s = yaml::as_duration_s(file_, x, what + " max_stage_in");
        if (auto x = n["wait_for_link"])
            e.wait_for_link_s = yaml::as_duration_s(file_, x, what + " wait_for_link");
        if (auto x = n["min_bandwidth"])
            e.min_bandwidth_bps = yaml::as_rate_bps(file_, x, what + " min_bandwidth");
        if (auto x = n["penalty"]) e.penalty_s = site_seconds(x, what + " penalty");
        if (auto x = n["bonus"]) e.bonus_s = site_seconds(x, what + " bonus");
    }

    Match load_match(const YAML::Node& n, const std::string& what) {
        if (!n.IsMap()) yaml::fail(file_, n, what + " must be a mapping such as `{account: [x]}`");
        std::vector<std::string> known;
        for (const auto& f : match_fields) known.emplace_back(f.name);
        // The one "unknown key" message, and a non-scalar key (`{[a]: 1}`, found by fuzz_policy)
        // is the file's error rather than yaml-cpp's TypedBadConversion.
        yaml::check_map(file_, n, what, known);
        Match m;
        for (const auto& f : match_fields) {
            const YAML::Node x = n[f.name];
            if (!x) continue;
            const std::string where = what + " " + f.name;
            switch (f.kind) {
                case MatchField::Kind::names:
                    m.*f.names = names(x, where);
                    break;
                case MatchField::Kind::min_count:
                case MatchField::Kind::max_count:
                    m.*f.count =
                        static_cast<unsigned>(yaml::as_integer(file_, x, where, 0, 100000000));
                    break;
                case MatchField::Kind::min_size:
                case MatchField::Kind::max_size:
                    m.*f.size = yaml::as_size(file_, x, where);
                    break;
            }
        }
        // Slurm's spelling of accounts (lower case), as the engine compares them.
        for (auto& a : m.accounts) a = slurm_account_name(a);
        return m;
    }

    Rule load_rule(const YAML::Node& n, const std::string& policy) {
        yaml::check_map(file_, n, "rule of policy '" + policy + "'",
                        {"name", "match", "unless", "mode", "allow", "deny", "require_features",
                         "require_gpu_types", "max_stage_in", "wait_for_link", "min_bandwidth",
                         "penalty", "bonus", "weights"});
        Rule r;
        r.where = yaml::where(file_, n);
        r.name = yaml::as_name(
            file_, yaml::require(file_, n, "name", "rule of policy '" + policy + "'"), "rule name");
        const std::string what = "rule '" + r.name + "'";
        if (auto m = n["match"]) r.match = load_match(m, what + " match");
        if (auto m = n["unless"]) r.unless = load_match(m, what + " unless");
        load_effects(n, r.effects, what);
        if (auto w = n["weights"]) r.effects.weights = weights(w, what + " weights");
        return r;
    }

    Policy load_policy(const YAML::Node& n) {
        yaml::check_map(
            file_, n, "policy",
            {"name", "description", "base", "weights", "user_weights", "preferred_bonus", "mode",
             "allow", "deny", "require_features", "require_gpu_types", "max_stage_in",
             "wait_for_link", "min_bandwidth", "penalty", "bonus", "rules"});
        const std::string name =
            yaml::as_name(file_, yaml::require(file_, n, "name", "policy"), "policy name");
        Policy p;
        if (auto b = n["base"]) {
            const std::string base = yaml::as_name(file_, b, "base");
            const Policy* from = set_.find(base);
            if (!from) {
                const PolicySet presets = PolicySet::builtin();
                from = presets.find(base);
                if (!from)
                    yaml::fail(file_, b,
                               "base policy '" + base +
                                   "' is neither a preset nor defined earlier in this file" +
                                   suggest(base));
                p = *from;
            } else {
                p = *from;
            }
            p.description.clear();
        }
        p.name = name;
        p.builtin = false;
        p.where = yaml::where(file_, n);
        const std::string what = "policy '" + name + "'";
        if (auto d = n["description"])
            p.description = yaml::as_string(file_, d, what + " description");
        if (p.description.empty()) {
            yaml::fail(file_, n,
                       what +
                           " needs a `description:` saying what it optimises (shown by `netplace "
                           "policy list`)");
        }
        if (auto w = n["weights"]) {
            for (const auto& [k, v] : weights(w, what + " weights"))
                *weight_field(p.weights, k) = v;
        }
        if (auto u = n["user_weights"]) {
            for (const auto& item : items(u)) {
                const std::string w = yaml::as_name(file_, item, what + " user_weights entry");
                if (!weight_field(scratch_, w)) {
                    yaml::fail(file_, item,
                               "user_weights names unknown weight '" + w + "': weights are " +
                                   weight_list());
                }
                p.user_weights.push_back(w);
            }
        }
        if (auto b = n["preferred_bonus"])
            p.preferred_bonus_s = yaml::as_duration_s(file_, b, what + " preferred_bonus");
        load_effects(n, p.effects, what);
        if (auto rs = n["rules"]) {
            if (!rs.IsSequence())
                yaml::fail(file_, rs, what + " rules must be a list (`- name: ...`)");
            for (const auto& r : rs) {
                Rule rule = load_rule(r, name);
                for (const auto& existing : p.rules) {
                    if (existing.name == rule.name) {
                        yaml::fail(
                            file_, r["name"],
                            "rule '" + rule.name + "' appears twice in " + what + ": rename one");
                    }
                }
                p.rules.push_back(std::move(rule));
            }
        }
        return p;
    }

    PolicySet& set_;
    std::string file_;
    Weights scratch_;  // for weight_field() lookups by name
    const yaml::Doc& doc_;
};

PolicySet PolicySet::load_file(const std::string& path) {
    const yaml::Doc doc = yaml::Doc::load_file(path);
    PolicySet set;
    set.source_ = path;
    Loader(set, doc).load(true);
    return set;
}

PolicySet PolicySet::load_string(const std::string& text, const std::string& name) {
    const yaml::Doc doc = yaml::Doc::load_string(text, name);
    PolicySet set;
    set.source_ = name;
    Loader(set, doc).load(true);
    return set;
}

PolicySet PolicySet::builtin() {
    // Parsed once: the presets are compiled in and cannot change while the process runs.
    static const PolicySet presets = [] {
        PolicySet all;
        for (unsigned i = 0; i < preset_count; ++i) {
            const yaml::Doc doc = yaml::Doc::load_string(
                preset_texts[i], std::string("<preset ") + preset_names[i] + ">");
            PolicySet one;
            Loader(one, doc).load(false);
            for (auto& p : one.policies_) {
                p.builtin = true;
                all.policies_.push_back(std::move(p));
            }
        }
        all.default_ = "balanced";
        all.source_ = "built-in presets";
        return all;
    }();
    return presets;
}

const Policy* PolicySet::find(const std::string& name) const {
    for (const auto& p : policies_)
        if (p.name == name) return &p;
    return nullptr;
}

const Policy& PolicySet::default_policy() const {
    if (const Policy* p = find(default_)) return *p;
    if (policies_.empty()) throw Error("policy set '" + source_ + "' has no policies");
    return policies_.front();
}

bool PolicySet::user_selectable(const std::string& name) const {
    if (!find(name)) return false;
    return selectable_.empty() || contains(selectable_, name);
}

const std::vector<std::string>* PolicySet::residency(const std::string& tag) const {
    auto it = residency_.find(tag);
    return it == residency_.end() ? nullptr : &it->second;
}

namespace {

// What hard constraints an effects block carries, in words ("deny gamma, max_stage_in 6h00m").
std::string hard_constraints(const Effects& fx) {
    if (fx.mode != Mode::enforce) return {};
    std::string out;
    auto add = [&](const std::string& part) { out += (out.empty() ? "" : ", ") + part; };
    auto list = [](const std::vector<std::string>& v) {
        std::string l;
        for (const auto& x : v) l += (l.empty() ? "" : " ") + x;
        return l;
    };
    if (!fx.deny.empty()) add("deny " + list(fx.deny));
    if (!fx.allow.empty()) add("allow " + list(fx.allow));
    if (!fx.require_features.empty()) add("require_features " + list(fx.require_features));
    if (!fx.require_gpu_types.empty()) add("require_gpu_types " + list(fx.require_gpu_types));
    if (fx.max_stage_in_s) add("max_stage_in " + units::format_duration(*fx.max_stage_in_s));
    if (fx.min_bandwidth_bps) add("min_bandwidth " + units::format_rate(*fx.min_bandwidth_bps));
    return out;
}

}  // namespace

std::vector<PolicySet::Warning> PolicySet::selectable_escapes() const {
    std::vector<Warning> out;
    if (policies_.empty()) return out;
    const Policy& def = default_policy();
    for (const auto& p : policies_) {
        // Nobody is placed under a policy that is neither the default nor open to users.
        if (p.name == def.name || !user_selectable(p.name)) continue;
        // Who can get placed without p's constraints: every other policy a job may name (the
        // default among them: jobs that name none).
        std::string others;
        for (const auto& q : policies_) {
            if (q.name == p.name || (q.name != def.name && !user_selectable(q.name))) continue;
            others += (others.empty() ? "'" : ", '") + q.name + "'";
        }
        if (others.empty()) continue;
        auto warn = [&](const Effects& fx, const Rule* r, const SourceLocation& where) {
            const std::string what = hard_constraints(fx);
            if (what.empty()) return;
            out.push_back(
                {where,
                 fmt::format("{} ({}) binds only jobs placed under '{}'; jobs under {} are not "
                             "bound by it: to bind every job, put it in the default policy "
                             "'{}' (whose enforce rules apply whatever policy a job selects) or "
                             "in `accounts:`",
                             r ? fmt::format("policy '{}' rule '{}'", p.name, r->name)
                               : fmt::format("policy '{}'", p.name),
                             what, p.name, others, def.name)});
        };
        warn(p.effects, nullptr, p.where);
        for (const auto& r : p.rules) warn(r.effects, &r, r.where);
    }
    return out;
}

const AccountAcl* PolicySet::account(const std::string& acct) const {
    auto it = accounts_.find(slurm_account_name(acct));
    return it == accounts_.end() ? nullptr : &it->second;
}

namespace {

std::string join(const std::vector<std::string>& v) {
    std::string out;
    for (const auto& s : v) out += (out.empty() ? "" : ", ") + s;
    return out;
}

std::string summarize(const Effects& e) {
    std::vector<std::string> parts;
    if (!e.allow.empty()) parts.push_back("only " + join(e.allow));
    if (!e.deny.empty()) parts.push_back("deny " + join(e.deny));
    if (!e.require_features.empty()) parts.push_back("features " + join(e.require_features));
    if (!e.require_gpu_types.empty()) parts.push_back("GPU types " + join(e.require_gpu_types));
    if (e.max_stage_in_s)
        parts.push_back("stage-in <= " + units::format_duration(*e.max_stage_in_s));
    if (e.wait_for_link_s)
        parts.push_back("waits <= " + units::format_duration(*e.wait_for_link_s) +
                        " for a busy link");
    if (e.min_bandwidth_bps)
        parts.push_back("links >= " + units::format_rate(*e.min_bandwidth_bps));
    for (const auto& [s, v] : e.penalty_s)
        parts.push_back("penalty " + s + " +" + units::format_duration(v));
    for (const auto& [s, v] : e.bonus_s)
        parts.push_back("bonus " + s + " -" + units::format_duration(v));
    for (const auto& [k, v] : e.weights) parts.push_back(k + "=" + fmt_number(v));
    std::string out = join(parts);
    if (!out.empty() && (!e.allow.empty() || !e.deny.empty()))
        out += " (" + to_string(e.mode) + ")";
    return out;
}

std::string conditions(const Match& m) {
    std::vector<std::string> cond;
    for (const auto& f : match_fields) {
        const std::string subject = f.subject;
        switch (f.kind) {
            case MatchField::Kind::names:
                if (!(m.*f.names).empty()) cond.push_back(subject + " " + join(m.*f.names));
                break;
            case MatchField::Kind::min_count:
            case MatchField::Kind::max_count:
                if (const auto& v = m.*f.count)
                    cond.push_back(subject +
                                   (f.kind == MatchField::Kind::min_count ? " >= " : " <= ") +
                                   std::to_string(*v));
                break;
            case MatchField::Kind::min_size:
            case MatchField::Kind::max_size:
                if (const auto& v = m.*f.size)
                    cond.push_back(subject +
                                   (f.kind == MatchField::Kind::min_size ? " >= " : " <= ") +
                                   units::format_size(*v));
                break;
        }
    }
    return join(cond);
}

}  // namespace

std::vector<PolicyInfo> PolicySet::describe() const {
    std::vector<PolicyInfo> out;
    const Weights defaults;
    const Policy schema;
    for (const auto& p : policies_) {
        PolicyInfo info;
        info.name = p.name;
        info.description = p.description;
        info.builtin = p.builtin;
        info.is_default = p.name == default_;
        info.user_selectable = user_selectable(p.name);
        info.source = p.builtin ? "built-in preset"
                                : p.where.file + ":" + std::to_string(p.where.line) + ":" +
                                      std::to_string(p.where.column);
        Weights w = p.weights;
        Weights d = defaults;
        for (const auto& f : weight_fields) {
            std::string help = f.help;
            if (contains(p.user_weights, f.name)) help += " (jobs may override)";
            info.options.push_back(
                {f.name, fmt_number(w.*f.member), fmt_number(d.*f.member), help});
        }
        info.options.push_back({"preferred_bonus", units::format_duration(p.preferred_bonus_s),
                                units::format_duration(schema.preferred_bonus_s),
                                "taken off the score of sites the job prefers"});
        info.options.push_back(
            {"max_stage_in",
             p.effects.max_stage_in_s ? units::format_duration(*p.effects.max_stage_in_s) : "none",
             "none", "sites whose stage-in would take longer are excluded"});
        info.options.push_back(
            {"min_bandwidth",
             p.effects.min_bandwidth_bps ? units::format_rate(*p.effects.min_bandwidth_bps)
                                         : "none",
             "none", "sites reached over a slower link from the data are excluded"});
        info.options.push_back({"mode", to_string(p.effects.mode), "enforce",
                                "enforce: jobs can only narrow the sites; default: a job may "
                                "re-allow a site by naming it"});
        const std::string own = summarize(p.effects);
        if (!own.empty()) info.rules.push_back("(policy): " + own);
        for (const auto& r : p.rules) {
            const std::string cond = conditions(r.match);
            std::string who = cond.empty() ? std::string("every job") : "jobs with " + cond;
            if (r.unless) who += " except " + conditions(*r.unless);
            info.rules.push_back(r.name + ": " + who + " -> " + summarize(r.effects));
        }
        out.push_back(std::move(info));
    }
    return out;
}

}  // namespace netplace::policies
