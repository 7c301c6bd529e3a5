#include "netplace/policies/job_io.hpp"

#include "netplace/core/error.hpp"
#include "netplace/core/file.hpp"
#include "netplace/core/units.hpp"
#include "netplace/core/yaml.hpp"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <cmath>
#include <functional>
#include <limits>

namespace netplace::policies {
namespace {

const std::initializer_list<std::string_view> job_keys = {
    "name",          "account", "user",     "group",  "partition", "nodes",   "tasks",
    "cpus_per_task", "gpus",    "gpu_type", "memory", "walltime",  "runtime", "features",
    "inputs",        "output",  "sites",    "policy", "weights"};
const std::initializer_list<std::string_view> dataset_keys = {"name", "site", "size", "residency"};
const std::initializer_list<std::string_view> output_keys = {"size", "site"};
const std::initializer_list<std::string_view> sites_keys = {"allowed", "preferred", "avoided"};

bool ends_with(const std::string& s, std::string_view suffix) {
    return s.size() >= suffix.size() &&
           s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

void check_job(const JobRequest& j,
               const std::function<void(const char* key, const std::string&)>& fail) {
    if (j.nodes == 0) fail("nodes", "nodes must be at least 1");
    if (j.tasks == 0) fail("tasks", "tasks must be at least 1");
    if (j.cpus_per_task == 0) fail("cpus_per_task", "cpus_per_task must be at least 1");
    if (!(j.walltime_s > 0))
        fail("walltime", "walltime must be greater than zero (e.g. `walltime: 4h`)");
    if (j.gpu_type && j.gpus == 0)
        fail("gpu_type", "gpu_type is set but gpus is 0: say how many GPUs (`gpus: 4`)");
}

// ---------------- YAML ----------------

JobRequest from_yaml(const yaml::Doc& doc) {
    const std::string& f = doc.file();
    const YAML::Node& r = doc.root();
    if (r.IsNull())
        yaml::fail(f, r, "job file is empty: it needs at least `walltime:` (see docs/policies.md)");
    yaml::check_map(f, r, "job", job_keys);
    JobRequest j;
    auto str = [&](const char* key, std::string& dst) {
        if (auto n = r[key]) dst = yaml::as_name(f, n, key);
    };
    auto count = [&](const char* key, unsigned& dst, std::int64_t min) {
        if (auto n = r[key])
            dst = static_cast<unsigned>(yaml::as_integer(f, n, key, min, 10000000));
    };
    if (auto n = r["name"]) j.name = yaml::as_string(f, n, "name");
    str("account", j.account);
    str("user", j.user);
    str("group", j.group);
    str("partition", j.partition);
    count("nodes", j.nodes, 1);
    count("tasks", j.tasks, 1);
    count("cpus_per_task", j.cpus_per_task, 1);
    count("gpus", j.gpus, 0);
    if (auto n = r["gpu_type"]) j.gpu_type = yaml::as_name(f, n, "gpu_type");
    if (auto n = r["memory"]) j.memory_bytes = yaml::as_size(f, n, "memory (per node)");
    if (auto n = r["walltime"]) {
        j.walltime_s = yaml::as_duration_s(f, n, "walltime");
        if (!(j.walltime_s > 0))
            yaml::fail(f, n, "walltime must be greater than zero (e.g. `walltime: 4h`)");
    }
    if (auto n = r["runtime"]) j.runtime_s = yaml::as_duration_s(f, n, "runtime");
    if (auto n = r["features"]) {
        if (n.IsScalar())
            j.features.push_back(yaml::as_name(f, n, "feature"));
        else if (n.IsSequence())
            for (const auto& item : n) j.features.push_back(yaml::as_name(f, item, "feature"));
        else
            yaml::fail(f, n,
                       "features must be a list of site features, e.g. `features: [ib, nvme]`");
    }
    if (auto n = r["inputs"]) {
        if (!n.IsSequence())
            yaml::fail(
                f, n, "inputs must be a list of datasets (`- {name: d, site: alpha, size: 500G}`)");
        for (const auto& d : n) {
            yaml::check_map(f, d, "dataset", dataset_keys);
            Dataset ds;
            ds.name = yaml::as_name(f, yaml::require(f, d, "name", "dataset"), "dataset name");
            const std::string what = "dataset '" + ds.name + "'";
            // Name alone: a dataset of the admin's catalog (data::resolve_inputs fills in site
            // and size). Otherwise the user declares both.
            if (d["site"] || d["size"]) {
                ds.site = yaml::as_name(f, yaml::require(f, d, "site", what), what + " site");
                ds.bytes = yaml::as_size(f, yaml::require(f, d, "size", what), what + " size");
            }
            if (auto t = d["residency"]) ds.residency = yaml::as_name(f, t, what + " residency");
            j.inputs.push_back(std::move(ds));
        }
    }
    if (auto n = r["output"]) {
        yaml::check_map(f, n, "output", output_keys);
        if (auto s = n["size"]) j.output_bytes = yaml::as_size(f, s, "output size");
        if (auto s = n["site"]) j.home_site = yaml::as_name(f, s, "output site");
    }
    if (auto n = r["sites"]) {
        yaml::check_map(f, n, "sites", sites_keys);
        auto list = [&](const char* key, std::vector<std::string>& dst) {
            if (auto x = n[key]) {
                if (x.IsScalar())
                    dst.push_back(yaml::as_name(f, x, key));
                else if (x.IsSequence())
                    for (const auto& i : x)
                        dst.push_back(yaml::as_name(f, i, std::string("sites ") + key + " entry"));
                else
                    yaml::fail(f, x,
                               std::string("sites ") + key +
                                   " must be a site name or a list of site names");
            }
        };
        list("allowed", j.hints.allowed);
        list("preferred", j.hints.preferred);
        list("avoided", j.hints.avoided);
    }
    if (auto n = r["policy"]) j.hints.policy = yaml::as_name(f, n, "policy");
    if (auto n = r["weights"]) {
        yaml::check_map(f, n, "job weights", {"completion", "transfer", "price", "wan_gb"});
        for (const auto& kv : n) {
            const std::string k = kv.first.as<std::string>();
            j.hints.weights.emplace_back(k, yaml::as_number(f, kv.second, "weight " + k, 0, 1e12));
        }
    }
    check_job(j, [&](const char* key, const std::string& msg) {
        yaml::fail(f, r[key] ? r[key] : r, msg);
    });
    return j;
}

// ---------------- JSON ----------------

using json = nlohmann::json;

class JsonReader {
  public:
    explicit JsonReader(const std::string& name) : name_(name) {}

    [[noreturn]] void fail(const std::string& path, const std::string& msg) const {
        throw ConfigError(name_ + ": " + (path.empty() ? "" : "\"" + path + "\": ") + msg);
    }

    void check_keys(const json& o, const std::string& path,
                    std::initializer_list<std::string_view> allowed) const {
        if (!o.is_object()) fail(path, "must be an object");
        for (auto it = o.begin(); it != o.end(); ++it) {
            bool ok = false;
            for (auto a : allowed) ok = ok || a == it.key();
            if (ok) continue;
            std::string msg = "unknown key '" + it.key() + "'";
            if (auto c = yaml::closest(it.key(), allowed)) msg += ": did you mean '" + *c + "'?";
            fail(path, msg);
        }
    }

    std::string name(const json& v, const std::string& path) const {
        if (!v.is_string()) fail(path, "must be a string");
        const auto& s = v.get_ref<const std::string&>();
        for (unsigned char c : s) {
            if (!std::isalnum(c) && c != '-' && c != '_' && c != '.')
                fail(path, "'" + s + "' is not a valid name: use letters, digits, '-', '_' or '.'");
        }
        if (s.empty()) fail(path, "must not be empty");
        return s;
    }

    std::int64_t integer(const json& v, const std::string& path, std::int64_t min) const {
        if (!v.is_number_integer() && !v.is_number_unsigned()) fail(path, "must be a whole number");
        if (v.is_number_unsigned() && v.get<std::uint64_t>() > 10000000u)
            fail(path, "is too large");
        const auto x = v.get<std::int64_t>();
        if (x < min || x > 10000000)
            fail(path, "must be between " + std::to_string(min) + " and 10000000");
        return x;
    }

    std::uint64_t size(const json& v, const std::string& path) const {
        if (v.is_number_unsigned() || (v.is_number_integer() && v.get<std::int64_t>() >= 0))
            return v.get<std::uint64_t>();
        if (v.is_number_float() && v.get<double>() >= 0 && v.get<double>() < 1.8e19)
            return static_cast<std::uint64_t>(v.get<double>());
        if (!v.is_string())
            fail(path, "must be a size: bytes as a number or a string like \"500G\"");
        try {
            return units::parse_size(v.get_ref<const std::string&>());
        } catch (const Error& e) {
            fail(path, e.message());
        }
    }

    double duration(const json& v, const std::string& path) const {
        if (v.is_number()) {
            const double x = v.get<double>();
            if (!std::isfinite(x) || x < 0) fail(path, "must be a non-negative number of seconds");
            if (x > units::kMaxDurationS)
                fail(path, fmt::format("is {} s: longer than the limit of {} s (100 years)", x,
                                       units::kMaxDurationS));
            return x;
        }
        if (!v.is_string())
            fail(path, "must be a duration: seconds as a number or a string like \"4h\"");
        try {
            return units::parse_duration_s(v.get_ref<const std::string&>());
        } catch (const Error& e) {
            fail(path, e.message());
        }
    }

    std::vector<std::string> names(const json& v, const std::string& path) const {
        std::vector<std::string> out;
        if (v.is_string()) {
            out.push_back(name(v, path));
        } else if (v.is_array()) {
            for (size_t i = 0; i < v.size(); ++i)
                out.push_back(name(v[i], path + "[" + std::to_string(i) + "]"));
        } else {
            fail(path, "must be a name or a list of names");
        }
        return out;
    }

  private:
    std::string name_;
};

JobRequest from_json(const json& r, const std::string& file) {
    const JsonReader in(file);
    in.check_keys(r, "", job_keys);
    JobRequest j;
    for (auto it = r.begin(); it != r.end(); ++it) {
        const std::string& k = it.key();
        const json& v = it.value();
        if (k == "name") {
            if (!v.is_string()) in.fail(k, "must be a string");
            j.name = v.get<std::string>();
        } else if (k == "account")
            j.account = in.name(v, k);
        else if (k == "user")
            j.user = in.name(v, k);
        else if (k == "group")
            j.group = in.name(v, k);
        else if (k == "partition")
            j.partition = in.name(v, k);
        else if (k == "nodes")
            j.nodes = static_cast<unsigned>(in.integer(v, k, 1));
        else if (k == "tasks")
            j.tasks = static_cast<unsigned>(in.integer(v, k, 1));
        else if (k == "cpus_per_task")
            j.cpus_per_task = static_cast<unsigned>(in.integer(v, k, 1));
        else if (k == "gpus")
            j.gpus = static_cast<unsigned>(in.integer(v, k, 0));
        else if (k == "gpu_type")
            j.gpu_type = in.name(v, k);
        else if (k == "memory")
            j.memory_bytes = in.size(v, k);
        else if (k == "walltime")
            j.walltime_s = in.duration(v, k);
        else if (k == "runtime")
            j.runtime_s = in.duration(v, k);
        else if (k == "features")
            j.features = in.names(v, k);
        else if (k == "policy")
            j.hints.policy = in.name(v, k);
        else if (k == "inputs") {
            if (!v.is_array()) in.fail(k, "must be a list of datasets");
            for (size_t i = 0; i < v.size(); ++i) {
                const std::string p = "inputs[" + std::to_string(i) + "]";
                const json& d = v[i];
                in.check_keys(d, p, dataset_keys);
                Dataset ds;
                const bool declared = d.contains("site") || d.contains("size");
                for (const char* req : {"name", "site", "size"})
                    if (!d.contains(req) && (declared || std::string_view(req) == "name"))
                        in.fail(p, std::string("is missing required key '") + req + "'");
                ds.name = in.name(d["name"], p + ".name");
                if (declared) {  // else a catalog dataset, by name
                    ds.site = in.name(d["site"], p + ".site");
                    ds.bytes = in.size(d["size"], p + ".size");
                }
                if (d.contains("residency"))
                    ds.residency = in.name(d["residency"], p + ".residency");
                j.inputs.push_back(std::move(ds));
            }
        } else if (k == "output") {
            in.check_keys(v, k, output_keys);
            if (v.contains("size")) j.output_bytes = in.size(v["size"], "output.size");
            if (v.contains("site")) j.home_site = in.name(v["site"], "output.site");
        } else if (k == "sites") {
            in.check_keys(v, k, sites_keys);
            if (v.contains("allowed")) j.hints.allowed = in.names(v["allowed"], "sites.allowed");
            if (v.contains("preferred"))
                j.hints.preferred = in.names(v["preferred"], "sites.preferred");
            if (v.contains("avoided")) j.hints.avoided = in.names(v["avoided"], "sites.avoided");
        } else if (k == "weights") {
            in.check_keys(v, k, {"completion", "transfer", "price", "wan_gb"});
            for (auto w = v.begin(); w != v.end(); ++w) {
                if (!w.value().is_number() || !(w.value().get<double>() >= 0) ||
                    !std::isfinite(w.value().get<double>())) {
                    in.fail("weights." + w.key(), "must be a number >= 0");
                }
                j.hints.weights.emplace_back(w.key(), w.value().get<double>());
            }
        }
    }
    check_job(j, [&](const char* key, const std::string& msg) { in.fail(key, msg); });
    return j;
}

// nlohmann reports a byte offset; people want line:col.
SourceLocation position(std::string_view text, std::size_t byte, const std::string& name) {
    int line = 1, col = 1;
    for (std::size_t i = 0; i < byte && i < text.size(); ++i) {
        if (text[i] == '\n') {
            ++line;
            col = 1;
        } else {
            ++col;
        }
    }
    return {name, line, col};
}

using ojson = nlohmann::ordered_json;
ojson number(double v) { return std::isfinite(v) ? ojson(v) : ojson(nullptr); }

}  // namespace

JobRequest parse_job_yaml(const std::string& text, const std::string& name) {
    return from_yaml(yaml::Doc::load_string(text, name));
}

JobRequest parse_job_json(std::string_view text, const std::string& name) {
    json j;
    try {
        j = json::parse(text.begin(), text.end());
    } catch (const json::parse_error& e) {
        const std::string what = e.what();
        const auto colon = what.rfind(": ");
        throw ConfigError(
            position(text, e.byte > 0 ? e.byte - 1 : 0, name),
            "JSON syntax error: " + (colon == std::string::npos ? what : what.substr(colon + 2)));
    } catch (const json::exception& e) {
        // out_of_range for a number such as 1e999: still the file's error, exit 2.
        throw ConfigError(name +
                          ": JSON number out of range (numbers must fit a double): " + e.what());
    }
    if (!j.is_object())
        throw ConfigError(name + ": a job must be a JSON object ({\"walltime\": \"1h\", ...})");
    return from_json(j, name);
}

JobRequest load_job_file(const std::string& path) {
    if (ends_with(path, ".json")) {
        std::string text;
        try {
            text = file::read_all(path, limits::Cap::input_file);
        } catch (const Error& e) {
            throw ConfigError(e.message());
        }
        return parse_job_json(text, path);
    }
    return from_yaml(yaml::Doc::load_file(path));
}

std::string decision_to_json(const PlacementDecision& d, int indent) {
    ojson ranking = ojson::array();
    for (const auto& e : d.ranking) {
        ranking.push_back({{"site", e.site},
                           {"wait_s", number(e.wait_s)},
                           {"stage_in_s", number(e.stage_in_s)},
                           {"run_s", number(e.run_s)},
                           {"stage_out_s", number(e.stage_out_s)},
                           {"total_s", number(e.total_s)},
                           {"price", number(e.price)},
                           {"score", number(e.score)},
                           {"score_terms",
                            {{"completion", number(e.terms.completion)},
                             {"transfer", number(e.terms.transfer)},
                             {"price", number(e.terms.price)},
                             {"wan", number(e.terms.wan)},
                             {"adjust", number(e.terms.adjust)}}},
                           {"wan_bytes", e.wan_bytes},
                           {"link_transfers", e.link_transfers},
                           {"link_wait_s", number(e.link_wait_s)},
                           {"excluded", e.excluded ? ojson(*e.excluded) : ojson(nullptr)},
                           {"notes", e.notes}});
        if (!e.stage_in_sources.empty()) {  // only then: the usual output stays as it was
            ojson from = ojson::array();
            for (const auto& [data_at, copy_at] : e.stage_in_sources)
                from.push_back({{"data_at", data_at}, {"from", copy_at}});
            ranking.back()["stage_in_from"] = std::move(from);
        }
    }
    ojson out = {{"site", d.site ? ojson(*d.site) : ojson(nullptr)},
                 {"cluster", d.site ? ojson(d.cluster) : ojson(nullptr)},
                 {"policy", d.policy},
                 {"run_basis", d.run_basis},
                 {"ranking", std::move(ranking)},
                 {"warnings", all_warnings(d)}};
    return out.dump(indent);
}

}  // namespace netplace::policies
