#include "netplace/slurm/options.hpp"

#include "netplace/core/error.hpp"
#include "netplace/core/units.hpp"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <algorithm>

namespace netplace::slurm {
namespace {

std::string_view trim(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
    return s;
}

std::vector<std::string_view> split(std::string_view s, char sep) {
    std::vector<std::string_view> out;
    for (;;) {
        auto p = s.find(sep);
        out.push_back(trim(s.substr(0, p)));
        if (p == std::string_view::npos) break;
        s.remove_prefix(p + 1);
    }
    return out;
}

// Site and dataset names end up in Slurm's -M list and in shell-visible variables: keep them to
// the characters Slurm cluster names use.
bool valid_name(std::string_view s) {
    if (s.empty() || s.size() > 64) return false;
    return std::all_of(s.begin(), s.end(), [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
               c == '-' || c == '_' || c == '.';
    });
}

const OptionSpec* find_spec(std::string_view name) {
    if (name.substr(0, 2) == "--") name.remove_prefix(2);
    for (const auto& s : kOptions)
        if (name == s.name) return &s;
    return nullptr;
}

}  // namespace

std::string to_string(Bind bind) {
    switch (bind) {
        case Bind::automatic:
            return "auto";
        case Bind::none:
            return "none";
        case Bind::gpu_nic:
            return "gpu-nic";
        case Bind::numa:
            return "numa";
    }
    return "auto";
}

Bind parse_bind(std::string_view text) {
    text = trim(text);
    if (text == "auto") return Bind::automatic;
    if (text == "none") return Bind::none;
    if (text == "gpu-nic") return Bind::gpu_nic;
    if (text == "numa") return Bind::numa;
    throw Error(fmt::format("'{}' is not a binding; use auto, none, gpu-nic or numa", text));
}

SiteChoice parse_sites(std::string_view text) {
    SiteChoice c;
    if (trim(text).empty()) throw Error("empty site list; use auto, a,b or !c");
    if (trim(text) == "auto") return c;
    for (auto item : split(text, ',')) {
        bool avoid = !item.empty() && item.front() == '!';
        if (avoid) item = trim(item.substr(1));
        if (item == "auto") throw Error("'auto' cannot be combined with site names");
        if (!valid_name(item))
            throw Error(fmt::format(
                "'{}' is not a site name (letters, digits, '-', '_', '.'; '!' to avoid)", item));
        auto& list = avoid ? c.avoided : c.wanted;
        auto& other = avoid ? c.wanted : c.avoided;
        if (std::find(other.begin(), other.end(), item) != other.end())
            throw Error(fmt::format("site '{}' is both wanted and avoided", item));
        if (std::find(list.begin(), list.end(), item) == list.end()) list.emplace_back(item);
    }
    return c;
}

std::vector<Dataset> parse_data(std::string_view text) {
    std::vector<Dataset> out;
    if (trim(text).empty())
        throw Error(
            "empty dataset list; use NAME[,...] (catalog datasets) or NAME@SITE:SIZE, "
            "e.g. imagenet or ds@beta:500G");
    for (auto item : split(text, ',')) {
        auto at = item.find('@');
        auto colon = item.rfind(':');
        Dataset d;
        if (at == std::string_view::npos && colon == std::string_view::npos) {
            // A bare name: the admin's catalog says where it lives and how big it is.
            auto name = trim(item);
            if (!valid_name(name))
                throw Error(fmt::format("'{}': bad dataset name '{}'", item, name));
            d.name = std::string(name);
        } else {
            if (at == std::string_view::npos || colon == std::string_view::npos || colon < at)
                throw Error(
                    fmt::format("'{}' is not NAME or NAME@SITE:SIZE (e.g. ds@beta:500G)", item));
            auto name = trim(item.substr(0, at));
            auto site = trim(item.substr(at + 1, colon - at - 1));
            auto size = trim(item.substr(colon + 1));
            if (!valid_name(name))
                throw Error(fmt::format("'{}': bad dataset name '{}'", item, name));
            if (!valid_name(site)) throw Error(fmt::format("'{}': bad site name '{}'", item, site));
            d.name = std::string(name);
            d.site = std::string(site);
            try {
                d.bytes = units::parse_size(size);
            } catch (const Error& e) {
                throw Error(fmt::format("'{}': size: {}", item, e.what()));
            }
            if (d.bytes == 0)
                throw Error(fmt::format("'{}': size must be greater than zero", item));
        }
        for (const auto& prev : out)
            if (prev.name == d.name) throw Error(fmt::format("dataset '{}' given twice", d.name));
        out.push_back(std::move(d));
    }
    return out;
}

std::string parse_policy_name(std::string_view text) {
    text = trim(text);
    if (!valid_name(text))
        throw Error(
            fmt::format("'{}' is not a policy name (letters, digits, '-', '_', '.')", text));
    return std::string(text);
}

bool parse_flag(std::string_view text) {
    text = trim(text);
    if (text.empty() || text == "1" || text == "yes" || text == "true" || text == "on") return true;
    if (text == "0" || text == "no" || text == "false" || text == "off") return false;
    throw Error(fmt::format("'{}' is not a yes/no value (1/0, yes/no, true/false, on/off)", text));
}

void apply_option(UserOptions& opts, std::string_view name, std::string_view value) {
    const OptionSpec* spec = find_spec(name);
    if (!spec) throw Error(fmt::format("unknown netplace option '{}'", name));
    std::string_view n = spec->name;
    if (n == "place-sites")
        opts.sites = parse_sites(value);
    else if (n == "place-data")
        opts.data = parse_data(value);
    else if (n == "place-policy")
        opts.policy = parse_policy_name(value);
    else if (n == "place-explain")
        opts.explain = value.empty() ? true : parse_flag(value);
    else if (n == "place-bind")
        opts.bind = parse_bind(value);
}

void apply_env(UserOptions& opts, const std::vector<std::string>& given, const GetEnv& getenv) {
    for (const auto& spec : kOptions) {
        if (std::find(given.begin(), given.end(), spec.name) != given.end()) continue;
        auto v = getenv(spec.env);
        if (!v) continue;
        try {
            // An empty mirror variable means "not set"; an empty --place-... value is an error.
            if (v->empty()) continue;
            apply_option(opts, spec.name, *v);
        } catch (const Error& e) {
            throw Error(fmt::format("{}={}: {}", spec.env, *v, e.what()));
        }
    }
}

std::vector<std::string> apply_cli_json(UserOptions& opts, const std::string& json_text) {
    return apply_cli_json(opts,
                          nlohmann::json::parse(json_text, nullptr, /*allow_exceptions=*/false));
}

std::vector<std::string> apply_cli_json(UserOptions& opts, const nlohmann::json& j) {
    std::vector<std::string> given;
    if (!j.is_object()) throw Error("cli_filter options are not a JSON object");
    for (const auto& spec : kOptions) {
        auto it = j.find(std::string("spank:") + spec.name);
        if (it == j.end() || it->is_null()) continue;
        // Slurm renders a flag option as "" or "(null)"; values as strings.
        std::string v = it->is_string() ? it->get<std::string>() : it->dump();
        if (spec.arginfo == nullptr && (v == "(null)" || v == "set")) v.clear();
        try {
            apply_option(opts, spec.name, v);
        } catch (const Error& e) {
            throw Error(invalid_message(spec.name, e.what()));
        }
        given.emplace_back(spec.name);
    }
    return given;
}

std::string invalid_message(std::string_view option, std::string_view why) {
    if (option.substr(0, 2) == "--") option.remove_prefix(2);
    return fmt::format("Invalid --{} argument: {}", option, why);
}

}  // namespace netplace::slurm
