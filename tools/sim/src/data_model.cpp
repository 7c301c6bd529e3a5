#include "netplace/core/error.hpp"
#include "netplace/core/units.hpp"
#include "netplace/core/yaml.hpp"
#include "netplace/sim/workload.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <map>

namespace netplace::sim {

double Distribution::sample(Rng& rng) const {
    double v = a;
    switch (kind) {
        case Kind::fixed:
            break;
        case Kind::uniform:
            v = a + (b - a) * rng.uniform();
            break;
        case Kind::lognormal:
            v = a * std::exp(b * rng.normal());
            break;
        case Kind::exponential:
            v = -a * std::log(1.0 - rng.uniform());
            break;
    }
    if (min) v = std::max(v, *min);
    if (max) v = std::min(v, *max);
    return v;
}

std::string Distribution::describe() const {
    switch (kind) {
        case Kind::fixed:
            return fmt::format("fixed {}", a);
        case Kind::uniform:
            return fmt::format("uniform [{}, {}]", a, b);
        case Kind::lognormal:
            return fmt::format("lognormal median {} sigma {}", a, b);
        case Kind::exponential:
            return fmt::format("exponential mean {}", a);
    }
    return "?";
}

namespace {

// A distribution node: a plain scalar is a fixed value; a map names `dist` and its parameters.
// `size` chooses byte sizes ("2G") over plain numbers.
Distribution parse_distribution(const std::string& file, const YAML::Node& node,
                                const std::string& what, bool size) {
    auto value = [&](const YAML::Node& n, const std::string& w) {
        return size ? static_cast<double>(yaml::as_size(file, n, w))
                    : yaml::as_number(file, n, w, 0, 1e18);
    };
    Distribution d;
    if (node.IsScalar()) {
        d.a = value(node, what);
        return d;
    }
    yaml::check_map(file, node, what, {"dist", "value", "min", "max", "median", "sigma", "mean"});
    const std::string kind =
        yaml::as_string(file, yaml::require(file, node, "dist", what), what + " dist");
    auto need = [&](std::string_view key) {
        return yaml::require(file, node, key, fmt::format("{} ({} distribution)", what, kind));
    };
    auto refuse = [&](std::initializer_list<std::string_view> keys) {
        for (auto k : keys)
            if (node[std::string(k)])
                yaml::fail(
                    file, node[std::string(k)],
                    fmt::format("{}: '{}' does not apply to a {} distribution", what, k, kind));
    };
    if (kind == "fixed") {
        refuse({"min", "max", "median", "sigma", "mean"});
        d.a = value(need("value"), what + " value");
    } else if (kind == "uniform") {
        refuse({"value", "median", "sigma", "mean"});
        d.kind = Distribution::Kind::uniform;
        d.a = value(need("min"), what + " min");
        d.b = value(need("max"), what + " max");
        if (d.b < d.a) yaml::fail(file, node["max"], what + ": max is below min");
        return d;
    } else if (kind == "lognormal") {
        refuse({"value", "mean"});
        d.kind = Distribution::Kind::lognormal;
        d.a = value(need("median"), what + " median");
        d.b = yaml::as_number(file, need("sigma"), what + " sigma", 0, 10);
    } else if (kind == "exponential") {
        refuse({"value", "median", "sigma"});
        d.kind = Distribution::Kind::exponential;
        d.a = value(need("mean"), what + " mean");
    } else {
        yaml::fail(
            file, node["dist"],
            fmt::format(
                "{}: unknown distribution '{}' (use fixed, uniform, lognormal or exponential)",
                what, kind));
    }
    if (node["min"]) d.min = value(node["min"], what + " min");
    if (node["max"]) d.max = value(node["max"], what + " max");
    return d;
}

}  // namespace

namespace {
DataModel parse_data_model(const yaml::Doc& doc, const std::string& name,
                           const Federation& federation);
}

DataModel parse_data_model(const std::string& text, const std::string& name,
                           const Federation& federation) {
    return parse_data_model(yaml::Doc::load_string(text, name), name, federation);
}

DataModel load_data_model(const std::string& path, const Federation& federation) {
    // As every admin file: a regular file (a FIFO would block), size-capped, aliases bounded.
    return parse_data_model(yaml::Doc::load_file(path), path, federation);
}

namespace {
DataModel parse_data_model(const yaml::Doc& doc, const std::string& name,
                           const Federation& federation) {
    const std::string& file = doc.file();
    const YAML::Node& root = doc.root();
    DataModel m;
    m.source = name;
    yaml::check_map(file, root, "data model",
                    {"seed", "home", "inputs", "outputs", "gpus", "residency"});
    if (root["seed"])
        m.seed =
            static_cast<std::uint64_t>(yaml::as_integer(file, root["seed"], "seed", 0, INT64_MAX));
    if (const auto home = root["home"]) {
        yaml::check_map(file, home, "home", {"from", "site", "map"});
        if (home["from"]) {
            const std::string from = yaml::as_string(file, home["from"], "home from");
            if (from == "partition")
                m.home_from = DataModel::HomeFrom::partition;
            else if (from == "queue")
                m.home_from = DataModel::HomeFrom::queue;
            else if (from == "user")
                m.home_from = DataModel::HomeFrom::user;
            else if (from == "fixed")
                m.home_from = DataModel::HomeFrom::fixed;
            else if (from == "random")
                m.home_from = DataModel::HomeFrom::random;
            else
                yaml::fail(
                    file, home["from"],
                    fmt::format(
                        "home from: '{}' is not one of partition, queue, user, fixed, random",
                        from));
        }
        if (home["site"]) {
            m.home_site = yaml::as_name(file, home["site"], "home site");
            if (!federation.find(*m.home_site))
                yaml::fail(file, home["site"],
                           fmt::format("home site '{}' is not a site of federation '{}'",
                                       *m.home_site, federation.name));
        }
        if (m.home_from == DataModel::HomeFrom::fixed && !m.home_site)
            yaml::fail(file, home, "home from: fixed needs 'site: <name>'");
        if (const auto map = home["map"]) {
            if (!map.IsMap())
                yaml::fail(file, map, "home map must be a map of trace value -> site");
            for (const auto& kv : map) {
                const std::string key = yaml::as_string(file, kv.first, "home map key");
                const std::string site = yaml::as_name(file, kv.second, "home map site");
                if (!federation.find(site)) {
                    std::vector<std::string> names;
                    for (const auto& s : federation.sites) names.push_back(s.name);
                    const auto hint = yaml::closest(site, names);
                    yaml::fail(file, kv.second,
                               fmt::format("home map: '{}' is not a site of federation '{}'{}",
                                           site, federation.name,
                                           hint ? " (did you mean '" + *hint + "'?)" : ""));
                }
                m.home_map.emplace_back(key, site);
            }
        }
    }
    if (const auto in = root["inputs"]) {
        yaml::check_map(file, in, "inputs", {"count", "size", "at_home", "reuse"});
        if (in["count"])
            m.input_count = parse_distribution(file, in["count"], "inputs count", false);
        if (in["size"]) m.input_bytes = parse_distribution(file, in["size"], "inputs size", true);
        if (in["at_home"])
            m.input_at_home = yaml::as_number(file, in["at_home"], "inputs at_home", 0, 1);
        if (const auto r = in["reuse"]) {
            if (r.IsScalar()) {
                m.input_reuse = yaml::as_number(file, r, "inputs reuse", 0, 1);
            } else {
                yaml::check_map(file, r, "inputs reuse", {"share", "recent"});
                m.input_reuse =
                    yaml::as_number(file, yaml::require(file, r, "share", "inputs reuse"),
                                    "inputs reuse share", 0, 1);
                if (r["recent"])
                    m.reuse_recent = static_cast<unsigned>(
                        yaml::as_integer(file, r["recent"], "inputs reuse recent", 1, 1 << 16));
            }
        }
    }
    if (const auto out = root["outputs"]) {
        yaml::check_map(file, out, "outputs", {"size"});
        if (out["size"])
            m.output_bytes = parse_distribution(file, out["size"], "outputs size", true);
    }
    if (const auto r = root["residency"]) {
        if (!r.IsMap())
            yaml::fail(file, r, "residency must map a site to the tag of the data it holds");
        for (const auto& kv : r) {
            const std::string site = yaml::as_name(file, kv.first, "residency site");
            if (!federation.find(site))
                yaml::fail(file, kv.first,
                           fmt::format("residency: '{}' is not a site of federation '{}'", site,
                                       federation.name));
            m.residency.emplace_back(site, yaml::as_name(file, kv.second, "residency tag"));
        }
    }
    if (const auto g = root["gpus"]) {
        yaml::check_map(file, g, "gpus", {"fraction", "per_job"});
        m.gpu_job_fraction =
            g["fraction"] ? yaml::as_number(file, g["fraction"], "gpus fraction", 0, 1) : 0;
        m.gpus_per_job = static_cast<unsigned>(yaml::as_integer(
            file, yaml::require(file, g, "per_job", "gpus"), "gpus per_job", 1, 1 << 20));
    }
    return m;
}
}  // namespace

std::vector<SimJob> build_workload(const SwfTrace& trace, const Federation& federation,
                                   const DataModel& model, std::uint64_t seed,
                                   WorkloadStats* stats) {
    const std::size_t nsites = federation.sites.size();
    if (nsites == 0)
        throw Error(fmt::format("federation '{}' has no sites to simulate", federation.name));
    WorkloadStats local;
    WorkloadStats& st = stats ? *stats : local;
    st = {};
    std::map<std::string, std::uint32_t> site_index;
    for (std::uint32_t i = 0; i < nsites; ++i) site_index[federation.sites[i].name] = i;

    // Map keys may be the SWF number or the name the header gives it ("lancs.ac.uk").
    const auto& names = model.home_from == DataModel::HomeFrom::queue ? trace.header.queues
                                                                      : trace.header.partitions;
    std::map<std::int64_t, std::uint32_t> home_of;
    for (const auto& [key, site] : model.home_map) {
        std::int64_t number = 0;
        auto [ptr, ec] = std::from_chars(key.data(), key.data() + key.size(), number);
        bool found = ec == std::errc() && ptr == key.data() + key.size();
        if (!found)
            for (const auto& [n, nm] : names)
                if (nm == key) {
                    number = n;
                    found = true;
                }
        if (!found)
            throw ConfigError(fmt::format(
                "{}: home map key '{}' is neither a number nor a name in the header of {}",
                model.source, key, trace.source));
        home_of[number] = site_index.at(site);
    }

    Rng home_rng(derive_seed(seed, "home"));
    Rng data_rng(derive_seed(seed, "data"));
    Rng gpu_rng(derive_seed(seed, "gpus"));
    // Its own stream: a model without reuse draws exactly what it drew before reuse existed.
    Rng reuse_rng(derive_seed(seed, "reuse"));
    std::map<std::int64_t, std::vector<SimInput>> recent;  // per user, oldest first
    std::uint32_t next_dataset = 0;

    std::vector<const SwfJob*> order;
    order.reserve(trace.jobs.size());
    for (const auto& j : trace.jobs) order.push_back(&j);
    std::stable_sort(order.begin(), order.end(),
                     [](const SwfJob* a, const SwfJob* b) { return a->submit_s < b->submit_s; });
    const double t0 = order.empty() ? 0 : order.front()->submit_s;

    std::vector<SimJob> jobs;
    jobs.reserve(order.size());
    for (const SwfJob* r : order) {
        ++st.records;
        if (r->runtime_s < 0) {
            ++st.skipped_no_runtime;
            continue;
        }
        const std::int64_t procs = r->requested_procs > 0 ? r->requested_procs : r->allocated_procs;
        if (procs <= 0) {
            ++st.skipped_no_cores;
            continue;
        }
        SimJob j;
        j.id = r->id;
        j.submit_s = r->submit_s - t0;
        j.runtime_s = r->runtime_s;
        j.walltime_s = r->requested_time_s;
        if (!(j.walltime_s >= j.runtime_s)) {
            j.walltime_s = j.runtime_s;
            ++st.clamped_walltime;
        }
        j.cores = static_cast<unsigned>(std::min<std::int64_t>(procs, 1 << 30));
        j.user = r->user;
        j.queue = r->queue;
        j.partition = r->partition;

        std::int64_t key = -1;
        switch (model.home_from) {
            case DataModel::HomeFrom::partition:
                key = r->partition;
                break;
            case DataModel::HomeFrom::queue:
                key = r->queue;
                break;
            case DataModel::HomeFrom::user:
                key = r->user;
                break;
            case DataModel::HomeFrom::fixed:
                break;
            case DataModel::HomeFrom::random:
                break;
        }
        if (model.home_from == DataModel::HomeFrom::fixed) {
            j.home = site_index.at(*model.home_site);
        } else if (model.home_from == DataModel::HomeFrom::random) {
            j.home = static_cast<std::uint32_t>(home_rng.below(nsites));
        } else if (auto it = home_of.find(key); it != home_of.end()) {
            j.home = it->second;
        } else {
            // Unmapped values spread over the sites in federation order, deterministically.
            const auto n = static_cast<std::int64_t>(nsites);
            j.home = static_cast<std::uint32_t>(((key % n) + n) % n);
        }

        std::uint64_t count = 0;
        if (model.input_count.kind == Distribution::Kind::uniform) {
            const auto lo = static_cast<std::uint64_t>(model.input_count.a);
            const auto hi = static_cast<std::uint64_t>(model.input_count.b);
            count = lo + data_rng.below(hi - lo + 1);
        } else {
            count = static_cast<std::uint64_t>(std::llround(model.input_count.sample(data_rng)));
        }
        count = std::min<std::uint64_t>(count, 64);
        for (std::uint64_t k = 0; k < count; ++k) {
            SimInput in;
            in.bytes = static_cast<std::uint64_t>(std::llround(model.input_bytes.sample(data_rng)));
            const double u = data_rng.uniform();
            if (u < model.input_at_home || nsites == 1) {
                in.site = j.home;
            } else {
                auto other = static_cast<std::uint32_t>(data_rng.below(nsites - 1));
                in.site = other >= j.home ? other + 1 : other;
            }
            in.dataset = next_dataset++;
            if (model.input_reuse > 0) {
                auto& mine = recent[j.user];
                if (!mine.empty() && reuse_rng.uniform() < model.input_reuse) {
                    in = mine[reuse_rng.below(mine.size())];
                } else {
                    if (mine.size() >= model.reuse_recent) mine.erase(mine.begin());
                    mine.push_back(in);
                }
            }
            j.inputs.push_back(in);
        }
        j.output_bytes =
            static_cast<std::uint64_t>(std::llround(model.output_bytes.sample(data_rng)));
        if (model.gpus_per_job && gpu_rng.uniform() < model.gpu_job_fraction)
            j.gpus = *model.gpus_per_job;
        jobs.push_back(std::move(j));
    }
    if (st.skipped_no_runtime)
        st.notes.push_back(
            fmt::format("{} records without a run time (-1) skipped", st.skipped_no_runtime));
    if (st.skipped_no_cores)
        st.notes.push_back(
            fmt::format("{} records without a processor count skipped", st.skipped_no_cores));
    if (st.clamped_walltime)
        st.notes.push_back(
            fmt::format("{} records had no requested time or one below the run time; "
                        "their run time stands in as the limit",
                        st.clamped_walltime));
    return jobs;
}

}  // namespace netplace::sim
