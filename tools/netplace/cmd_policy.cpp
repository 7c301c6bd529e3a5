// `netplace policy list|check`: what policies exist and what they do; validate a policy file.
#include "command.hpp"

#include "netplace/core/error.hpp"
#include "netplace/core/yaml.hpp"
#include "netplace/network/federation.hpp"
#include "netplace/network/probe.hpp"
#include "netplace/policies/policy.hpp"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <iostream>

namespace netplace::cli {
namespace {

struct PolicyOptions {
    std::string file;
    std::string federation;
    bool json = false;
};

policies::PolicySet load(const std::string& file) {
    return file.empty() ? policies::PolicySet::builtin() : policies::PolicySet::load_file(file);
}

int list(const PolicyOptions& o) {
    const auto set = load(o.file);
    const auto infos = set.describe();
    if (o.json) {
        nlohmann::ordered_json out = nlohmann::ordered_json::array();
        for (const auto& p : infos) {
            nlohmann::ordered_json opts = nlohmann::ordered_json::array();
            for (const auto& op : p.options) {
                opts.push_back({{"name", op.name},
                                {"value", op.value},
                                {"default", op.fallback},
                                {"help", op.help}});
            }
            out.push_back({{"name", p.name},
                           {"description", p.description},
                           {"builtin", p.builtin},
                           {"default", p.is_default},
                           {"user_selectable", p.user_selectable},
                           {"source", p.source},
                           {"options", opts},
                           {"rules", p.rules}});
        }
        std::cout << out.dump(2) << '\n';
        return ok;
    }
    std::cout << fmt::format("policies from {} (default: {})\n", set.source(), set.default_name());
    for (const auto& p : infos) {
        std::vector<std::string> tags;
        if (p.is_default) tags.push_back("default");
        if (p.builtin) tags.push_back("preset");
        if (!p.user_selectable) tags.push_back("admin only");
        std::string t;
        for (const auto& s : tags) t += (t.empty() ? "" : ", ") + s;
        std::cout << fmt::format("\n{}{}\n  {}\n  source: {}\n  options (value / default):\n",
                                 p.name, t.empty() ? "" : " [" + t + "]", p.description, p.source);
        for (const auto& op : p.options) {
            std::cout << fmt::format("    {:<16} {:<12} / {:<10} {}\n", op.name, op.value,
                                     op.fallback, op.help);
        }
        if (!p.rules.empty()) {
            std::cout << "  constraints and rules:\n";
            for (const auto& r : p.rules) std::cout << "    " << r << '\n';
        }
    }
    return ok;
}

int check(const PolicyOptions& o) {
    const auto set = policies::PolicySet::load_file(o.file);
    if (!o.federation.empty()) {
        const Federation fed = network::load_federation(o.federation, network::probe_url_problem);
        std::vector<std::string> names;
        for (const auto& s : fed.sites) names.push_back(s.name);
        for (const auto& m : set.site_mentions()) {
            if (fed.find(m.site)) continue;
            std::string msg = fmt::format("site '{}' is not in federation '{}' ({})", m.site,
                                          fed.name, o.federation);
            if (auto c = yaml::closest(m.site, names))
                msg += fmt::format(": did you mean '{}'?", *c);
            else {
                std::string all;
                for (const auto& n : names) all += (all.empty() ? "" : ", ") + n;
                msg += ": sites are " + all;
            }
            throw ConfigError(m.where, msg);
        }
    }
    // Valid, but an admin constraint that a job escapes by naming another policy: say so.
    for (const auto& w : set.selectable_escapes())
        std::cerr << Error::render(w.where, "warning: " + w.message) << '\n';
    size_t own = 0;
    for (const auto& p : set.policies())
        if (!p.builtin) ++own;
    std::cout << fmt::format("{}: ok: {} policies ({} defined here), default '{}'\n", o.file,
                             set.policies().size(), own, set.default_name());
    return ok;
}

Registration reg(50, [](CLI::App& app) -> std::function<int()> {
    auto o = std::make_shared<PolicyOptions>();
    auto* cmd =
        app.add_subcommand("policy", "Placement policies: list what they do, check a policy file");
    cmd->require_subcommand(1);
    auto* ls = cmd->add_subcommand(
        "list", "Each policy with its description, options (value and default) and rules");
    ls->add_option("--policy", o->file, "policy file (default: the built-in presets only)");
    ls->add_flag("--json", o->json, "print as JSON");
    auto* ck =
        cmd->add_subcommand("check", "Validate a policy file; errors are file:line:col: message");
    ck->add_option("FILE", o->file, "policy file")->required();
    ck->add_option("--federation", o->federation,
                   "also check that every site named exists in this federation");
    return [o, ls] { return ls->parsed() ? list(*o) : check(*o); };
});

}  // namespace
}  // namespace netplace::cli
