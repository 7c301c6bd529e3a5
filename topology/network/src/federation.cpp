#include "netplace/network/federation.hpp"
#include "netplace/network/probing_keys.hpp"

#include "netplace/core/error.hpp"
#include "netplace/core/limits.hpp"
#include "netplace/core/yaml.hpp"

#include <cctype>
#include <memory>
#include <set>

namespace netplace::network {
namespace {

using yaml::as_duration_s;
using yaml::as_integer;
using yaml::as_name;
using yaml::as_number;
using yaml::as_rate_bps;
using yaml::as_size;
using yaml::as_string;
using yaml::check_map;
using yaml::fail;

// Only the scheme is checked here; a full parse needs libcurl, which the submission path (the
// cli_filter module inside sbatch) should not have to load. Probing processes pass libcurl's
// parser as `deep` (probe_url_problem) so they never meet a URL they reject later.
void check_probe_url(const std::string& file, const YAML::Node& node, const std::string& url,
                     const std::string& site, const UrlCheck& deep, const char* kind = "probe") {
    const std::string what = std::string(kind) + " URL '" + url + "' of site '" + site + "'";
    const auto sep = url.find("://");
    if (sep == std::string::npos || sep == 0)
        fail(file, node, what + " has no scheme: use http:// or https://");
    std::string scheme = url.substr(0, sep);
    for (auto& c : scheme) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (scheme != "http" && scheme != "https") {
        fail(file, node,
             what + " uses scheme '" + scheme +
                 "': only http and https probe endpoints are supported");
    }
    if (url.size() == sep + 3 || url[sep + 3] == '/') fail(file, node, what + " has no host");
    if (deep) {
        if (auto problem = deep(url)) fail(file, node, what + " " + *problem);
    }
}

unsigned as_count(const std::string& file, const YAML::Node& n, const std::string& what) {
    return static_cast<unsigned>(as_integer(file, n, what, 0, 100'000'000));
}

SiteCapacity parse_capacity(const std::string& file, const YAML::Node& n, const std::string& what) {
    check_map(file, n, what, {"nodes", "cores", "memory", "gpus"});
    SiteCapacity c;
    if (n["nodes"]) c.nodes = as_count(file, n["nodes"], what + " nodes");
    if (n["cores"]) c.cores = as_count(file, n["cores"], what + " cores");
    if (n["memory"]) c.memory_bytes = as_size(file, n["memory"], what + " memory");
    if (const auto g = n["gpus"]) {
        if (!g.IsMap())
            fail(file, g, what + " gpus must be a mapping of GPU type to count, e.g. {a100: 64}");
        for (const auto& kv : g) {
            const std::string type = as_name(file, kv.first, what + " GPU type");
            c.gpus[type] = as_count(file, kv.second, what + " gpus." + type);
        }
    }
    return c;
}

double positive(const std::string& file, const YAML::Node& n, double v, const std::string& what) {
    if (!(v > 0)) fail(file, n, what + " must be greater than zero");
    return v;
}

// `rest:` of an independent centre: its slurmrestd and where JWTs are found.
void parse_rest(const std::string& file, const YAML::Node& site_node, Site& s) {
    const std::string what = "site '" + s.name + "' rest";
    const YAML::Node n = site_node["rest"];
    if (!n) fail(file, site_node, "site '" + s.name + "' has access: rest but no rest: {url: ...}");
    check_map(file, n, what,
              {"url", "api", "user_token", "service_token", "service_user", "connect_timeout",
               "timeout", "on_forward_failure"});
    RestAccess& r = s.rest;
    const YAML::Node u = yaml::require(file, n, "url", what);
    r.url = as_string(file, u, what + " url");
    const auto sep = r.url.find("://");
    const std::string scheme = sep == std::string::npos ? "" : r.url.substr(0, sep);
    if (scheme != "http" && scheme != "https")
        fail(file, u, what + " url '" + r.url + "' must start with http:// or https://");
    if (r.url.size() == sep + 3 || r.url[sep + 3] == '/')
        fail(file, u, what + " url '" + r.url + "' has no host");
    if (r.url.find('/', sep + 3) != std::string::npos)
        fail(file, u,
             what + " url '" + r.url + "' has a path: give scheme://host:port only (the API " +
                 "paths /slurm/<api>/... are added)");
    if (n["api"]) {
        r.api = as_string(file, n["api"], what + " api");
        // Only the version this client speaks: another one parses differently.
        if (r.api != "v0.0.38")
            fail(file, n["api"],
                 what + " api '" + r.api +
                     "' is not supported: use v0.0.38 (slurmrestd -s openapi/v0.0.38)");
    }
    auto path = [&](const char* key, std::string& out) {
        if (!n[key]) return;
        out = as_string(file, n[key], what + " " + key);
        if (out.empty() || (out[0] != '/' && out.rfind("%h", 0) != 0))
            fail(file, n[key],
                 what + " " + key + " '" + out + "' must be an absolute path or start with %h");
    };
    path("user_token", r.user_token);
    path("service_token", r.service_token);
    if (n["service_user"])
        r.service_user = as_name(file, n["service_user"], what + " service_user");
    auto dur = [&](const char* key, double& out) {
        if (!n[key]) return;
        out = as_duration_s(file, n[key], what + " " + key);
        if (!(out > 0) || out > 300)
            fail(file, n[key],
                 what + " " + key + " must be between 0 and 5m (it bounds a submission)");
    };
    dur("connect_timeout", r.connect_timeout_s);
    dur("timeout", r.timeout_s);
    if (const auto f = n["on_forward_failure"]) {
        const std::string v = as_string(file, f, what + " on_forward_failure");
        if (v == "home")
            r.on_forward_failure = RestAccess::OnFailure::home;
        else if (v == "fail")
            r.on_forward_failure = RestAccess::OnFailure::fail;
        else
            fail(file, f, what + " on_forward_failure '" + v + "' must be home or fail");
    }
}

void parse_multicluster(const std::string& file, const YAML::Node& site_node, Site& s) {
    if (site_node["rest"])
        fail(file, site_node["rest"],
             "site '" + s.name + "' has rest: but access: multicluster (set access: rest)");
}

// The ways a site's Slurm is reached, by their federation.yaml name; each reads its own keys.
struct AccessKind {
    const char* name;
    SiteAccess kind;
    void (*parse)(const std::string& file, const YAML::Node& site_node, Site& s);
};
constexpr AccessKind kAccessKinds[] = {
    {"multicluster", SiteAccess::multicluster, parse_multicluster},
    {"rest", SiteAccess::rest, parse_rest},
};

void parse_access(const std::string& file, const YAML::Node& n, Site& s) {
    std::string name = "multicluster";
    if (n["access"]) name = as_string(file, n["access"], "site '" + s.name + "' access");
    for (const auto& k : kAccessKinds) {
        if (name == k.name) {
            s.access = k.kind;
            k.parse(file, n, s);
            return;
        }
    }
    std::vector<std::string> names;
    for (const auto& k : kAccessKinds) names.emplace_back(k.name);
    std::string msg =
        "site '" + s.name + "' access '" + name + "' is not one of multicluster, rest";
    if (auto c = yaml::closest(name, names)) msg += ": did you mean '" + *c + "'?";
    fail(file, n["access"], msg);
}

Site parse_site(const std::string& file, const YAML::Node& n, const UrlCheck& deep) {
    check_map(file, n, "site",
              {"name", "cluster", "access", "rest", "probe", "capacity", "speed", "price",
               "features", "partitions", "static_wait", "regions", "public_key", "snapshot"});
    Site s;
    s.name = as_name(file, yaml::require(file, n, "name", "site"), "site name");
    const std::string what = "site '" + s.name + "'";
    s.cluster = n["cluster"] ? as_name(file, n["cluster"], what + " cluster") : s.name;
    parse_access(file, n, s);
    if (const auto p = n["probe"]) {
        s.probe_urls = yaml::as_string_list(file, p, what + " probe");
        if (p.IsSequence()) {
            size_t i = 0;
            for (const auto& item : p) check_probe_url(file, item, s.probe_urls[i++], s.name, deep);
        } else {
            for (const auto& u : s.probe_urls) check_probe_url(file, p, u, s.name, deep);
        }
    }
    if (n["capacity"]) s.capacity = parse_capacity(file, n["capacity"], what + " capacity");
    if (n["speed"]) {
        s.speed = as_number(file, n["speed"], what + " speed", 0, 1e6);
        positive(file, n["speed"], s.speed, what + " speed");
    }
    if (const auto p = n["price"]) {
        check_map(file, p, what + " price", {"core_hour", "gpu_hour"});
        if (p["core_hour"])
            s.price.core_hour = as_number(file, p["core_hour"], what + " price.core_hour", 0, 1e9);
        if (p["gpu_hour"])
            s.price.gpu_hour = as_number(file, p["gpu_hour"], what + " price.gpu_hour", 0, 1e9);
    }
    if (n["features"]) s.features = yaml::as_string_list(file, n["features"], what + " features");
    if (n["partitions"])
        s.partitions = yaml::as_string_list(file, n["partitions"], what + " partitions");
    if (n["static_wait"])
        s.static_wait_s = as_duration_s(file, n["static_wait"], what + " static_wait");
    if (n["regions"]) s.regions = yaml::as_string_list(file, n["regions"], what + " regions");
    if (const auto k = n["public_key"]) {
        s.public_keys = yaml::as_string_list(file, k, what + " public_key");
        for (const auto& key : s.public_keys) {
            // 32-byte Ed25519 keys are 44 base64 characters ending in '='; the full decode and
            // check happens where keys are used (exchange.cpp), this catches copy-paste slips.
            if (key.size() != 44 || key.back() != '=' ||
                key.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                                      "0123456789+/=") != std::string::npos)
                fail(file, k,
                     what + " public_key '" + key +
                         "' is not an Ed25519 public key (44 base64 characters, as `netplace "
                         "keygen` prints)");
        }
    }
    if (const auto p = n["snapshot"]) {
        s.snapshot_urls = yaml::as_string_list(file, p, what + " snapshot");
        size_t i = 0;
        for (const auto& u : s.snapshot_urls)
            check_probe_url(file, p.IsSequence() ? p[i++] : p, u, s.name, deep, "snapshot");
    }
    return s;
}

using ProbingApply = void (*)(const std::string& file, const YAML::Node& v, ProbeSettings& p);

// A duration that must be > 0.
template <double ProbeSettings::*M>
void duration_key(const std::string& file, const YAML::Node& v, ProbeSettings& p, const char* key) {
    const std::string what = std::string("probing.") + key;
    p.*M = positive(file, v, as_duration_s(file, v, what), what);
}

struct ProbingRow {
    ProbingKey info;
    ProbingApply apply;
};

#define NETPLACE_DURATION(key, member, help)                                  \
    ProbingRow {                                                              \
        {key, "duration > 0", help},                                          \
            [](const std::string& f, const YAML::Node& v, ProbeSettings& p) { \
                duration_key<&ProbeSettings::member>(f, v, p, key);           \
            }                                                                 \
    }

const ProbingRow kProbing[] = {
    {{"state_file", "path", "link-state file the daemon writes and every door reads"},
     [](const std::string& f, const YAML::Node& v, ProbeSettings& p) {
         p.state_file = as_string(f, v, "probing.state_file");
     }},
    {{"prometheus_file", "path", "node_exporter textfile written after every state write"},
     [](const std::string& f, const YAML::Node& v, ProbeSettings& p) {
         p.prometheus_file = as_string(f, v, "probing.prometheus_file");
     }},
    NETPLACE_DURATION("interval", bandwidth_interval_s, "bandwidth probe period per link"),
    NETPLACE_DURATION("latency_interval", latency_interval_s, "latency probe period per link"),
    {{"jitter", "fraction 0..0.9", "+- share of the interval, so probes do not align"},
     [](const std::string& f, const YAML::Node& v, ProbeSettings& p) {
         p.jitter = as_number(f, v, "probing.jitter", 0, 0.9);
     }},
    {{"streams", "1..64", "parallel HTTP range downloads per bandwidth probe"},
     [](const std::string& f, const YAML::Node& v, ProbeSettings& p) {
         p.streams = static_cast<unsigned>(as_integer(f, v, "probing.streams", 1, 64));
     }},
    {{"max_bytes", "size >= 64KiB", "byte cap per bandwidth probe"},
     [](const std::string& f, const YAML::Node& v, ProbeSettings& p) {
         p.max_bytes = as_size(f, v, "probing.max_bytes");
         if (p.max_bytes < (64u << 10)) fail(f, v, "probing.max_bytes must be at least 64KiB");
     }},
    {{"daily_budget", "size > 0", "bytes per link and UTC day"},
     [](const std::string& f, const YAML::Node& v, ProbeSettings& p) {
         p.daily_budget_bytes = as_size(f, v, "probing.daily_budget");
         positive(f, v, static_cast<double>(p.daily_budget_bytes), "probing.daily_budget");
     }},
    {{"latency_samples", "1..100", "requests per latency probe (median)"},
     [](const std::string& f, const YAML::Node& v, ProbeSettings& p) {
         p.latency_samples =
             static_cast<unsigned>(as_integer(f, v, "probing.latency_samples", 1, 100));
     }},
    NETPLACE_DURATION("connect_timeout", connect_timeout_s, "TCP/TLS connect limit"),
    NETPLACE_DURATION("timeout", timeout_s, "whole-transfer limit"),
    {{"low_speed_limit", "rate", "abort a transfer slower than this ..."},
     [](const std::string& f, const YAML::Node& v, ProbeSettings& p) {
         p.low_speed_bps = as_rate_bps(f, v, "probing.low_speed_limit");
     }},
    NETPLACE_DURATION("low_speed_time", low_speed_time_s, "... for this long"),
    {{"failures_down", "1..1000", "consecutive failures before a link is down"},
     [](const std::string& f, const YAML::Node& v, ProbeSettings& p) {
         p.failures_down =
             static_cast<unsigned>(as_integer(f, v, "probing.failures_down", 1, 1000));
     }},
    NETPLACE_DURATION("max_age", max_age_s, "older measurements are stale"),
    {{"degraded_fraction", "fraction 0..1", "below this share of the usual figure: degraded"},
     [](const std::string& f, const YAML::Node& v, ProbeSettings& p) {
         p.degraded_fraction = as_number(f, v, "probing.degraded_fraction", 0, 1);
     }},
    NETPLACE_DURATION("backoff_max", backoff_max_s, "longest retry backoff after failures"),
    {{"ca_file", "path", "extra CA bundle for HTTPS endpoints"},
     [](const std::string& f, const YAML::Node& v, ProbeSettings& p) {
         p.ca_file = as_string(f, v, "probing.ca_file");
     }},
};
#undef NETPLACE_DURATION

void parse_probing(const std::string& file, const YAML::Node& n, ProbeSettings& p) {
    if (!n.IsMap()) fail(file, n, "probing must be a mapping such as `{interval: 10m}`");
    std::vector<std::string> known;
    for (const auto& row : kProbing) known.emplace_back(row.info.name);
    check_map(file, n, "probing", known);
    for (const auto& kv : n) {
        const std::string key = kv.first.Scalar();
        const auto row = std::find_if(std::begin(kProbing), std::end(kProbing),
                                      [&](const ProbingRow& r) { return key == r.info.name; });
        row->apply(file, kv.second, p);
    }
}

void parse_exchange(const std::string& file, const YAML::Node& n, ExchangeSettings& x) {
    check_map(file, n, "exchange",
              {"private_key", "publish_file", "relay_dir", "site_state", "merged_site_state",
               "status_file", "interval", "jitter", "validity", "max_bytes", "connect_timeout",
               "timeout", "parallel"});
    auto path = [&](const char* key, std::optional<std::string>& out) {
        if (n[key]) out = as_string(file, n[key], std::string("exchange.") + key);
    };
    auto dur = [&](const char* key, double& out) {
        if (const auto v = n[key])
            out = positive(file, v, as_duration_s(file, v, std::string("exchange.") + key),
                           std::string("exchange.") + key);
    };
    path("private_key", x.private_key);
    path("publish_file", x.publish_file);
    path("relay_dir", x.relay_dir);
    path("site_state", x.site_state);
    path("merged_site_state", x.merged_site_state);
    path("status_file", x.status_file);
    dur("interval", x.interval_s);
    dur("validity", x.validity_s);
    dur("connect_timeout", x.connect_timeout_s);
    dur("timeout", x.timeout_s);
    if (n["jitter"]) x.jitter = as_number(file, n["jitter"], "exchange.jitter", 0, 0.9);
    if (n["max_bytes"]) {
        x.max_bytes = as_size(file, n["max_bytes"], "exchange.max_bytes");
        if (x.max_bytes < 4096) fail(file, n["max_bytes"], "exchange.max_bytes must be >= 4KiB");
    }
    if (n["parallel"])
        x.parallel =
            static_cast<unsigned>(as_integer(file, n["parallel"], "exchange.parallel", 1, 1024));
    if (x.validity_s < x.interval_s) {
        fail(file, n["validity"] ? n["validity"] : n,
             "exchange.validity must be at least exchange.interval, or peers' copies expire "
             "between two rounds");
    }
}

// `limits:`: the admin's file size caps, keys and defaults from core/limits.hpp's table.
std::vector<std::pair<limits::Cap, std::uint64_t>> parse_limits(const std::string& file,
                                                                const YAML::Node& n) {
    if (!n.IsMap()) fail(file, n, "limits must be a mapping such as `{state_file: 64MiB}`");
    std::vector<std::string> known;
    for (const auto& c : limits::caps()) known.emplace_back(c.name);
    check_map(file, n, "limits", known);
    std::vector<std::pair<limits::Cap, std::uint64_t>> out;
    for (const auto& kv : n) {
        const std::string key = kv.first.Scalar();
        const auto cap = limits::find(key);  // check_map let only known names through
        const std::string what = "limits." + key;
        const std::uint64_t bytes = as_size(file, kv.second, what);
        if (bytes < limits::kMinCapBytes) fail(file, kv.second, what + " must be at least 4KiB");
        out.emplace_back(*cap, bytes);
    }
    return out;
}

Federation parse(const yaml::Doc& doc, const UrlCheck& deep) {
    const std::string& file = doc.file();
    const YAML::Node& root = doc.root();
    check_map(file, root, "federation file",
              {"federation", "local_site", "defaults", "sites", "links", "probing", "exchange",
               "limits"});
    Federation fed;
    fed.source = file;
    fed.name = as_name(file, yaml::require(file, root, "federation", "federation file"),
                       "federation name");

    if (const auto d = root["defaults"]) {
        check_map(file, d, "defaults", {"bandwidth", "latency", "intra_site_bandwidth"});
        if (d["bandwidth"])
            fed.default_bandwidth_bps = as_rate_bps(file, d["bandwidth"], "defaults.bandwidth");
        if (d["latency"])
            fed.default_latency_s = as_duration_s(file, d["latency"], "defaults.latency");
        if (d["intra_site_bandwidth"])
            fed.intra_site_bandwidth_bps =
                as_rate_bps(file, d["intra_site_bandwidth"], "defaults.intra_site_bandwidth");
    }

    const YAML::Node sites = yaml::require(file, root, "sites", "federation file");
    if (!sites.IsSequence() || sites.size() == 0) {
        fail(file, sites, "sites must be a non-empty list of sites (- name: alpha ...)");
    }
    std::set<std::string> names, clusters;
    std::set<std::string> regions;
    for (const auto& sn : sites) {
        Site s = parse_site(file, sn, deep);
        if (!names.insert(s.name).second)
            fail(file, sn["name"], "site '" + s.name + "' is defined twice");
        if (!clusters.insert(s.cluster).second) {
            fail(file, sn["cluster"] ? sn["cluster"] : sn["name"],
                 "Slurm cluster '" + s.cluster +
                     "' is used by two sites: each site needs its own cluster");
        }
        for (const auto& r : s.regions) {
            if (!regions.insert(r).second) {
                fail(file, sn["regions"], "region '" + r + "' is mapped to more than one site");
            }
        }
        fed.sites.push_back(std::move(s));
    }
    std::vector<std::string> name_list(names.begin(), names.end());
    auto site_ref = [&](const YAML::Node& n, const std::string& what) {
        const std::string v = as_name(file, n, what);
        if (!names.count(v)) {
            std::string msg = what + " '" + v + "' is not a site of this federation";
            if (auto c = yaml::closest(v, name_list)) msg += ": did you mean '" + *c + "'?";
            fail(file, n, msg);
        }
        return v;
    };

    if (const auto l = root["local_site"]) {
        fed.local_site = site_ref(l, "local_site");
        if (fed.find(fed.local_site)->access != SiteAccess::multicluster)
            fail(file, l,
                 "local_site '" + fed.local_site +
                     "' has access: rest: the home site is reached directly, not over REST");
    }

    if (const auto links = root["links"]) {
        if (!links.IsSequence() && !links.IsNull())
            fail(file, links, "links must be a list of {from, to, bandwidth, latency}");
        std::set<std::pair<std::string, std::string>> seen;
        for (const auto& ln : links) {
            check_map(file, ln, "link", {"from", "to", "bandwidth", "latency"});
            LinkFigures f;
            f.from = site_ref(yaml::require(file, ln, "from", "link"), "link from");
            f.to = site_ref(yaml::require(file, ln, "to", "link"), "link to");
            if (f.from == f.to)
                fail(file, ln,
                     "link from '" + f.from + "' to itself: use defaults.intra_site_bandwidth");
            if (!seen.emplace(f.from, f.to).second) {
                fail(file, ln, "link " + f.from + " -> " + f.to + " is listed twice");
            }
            if (ln["bandwidth"])
                f.bandwidth_bps = as_rate_bps(file, ln["bandwidth"], "link bandwidth");
            if (ln["latency"]) f.latency_s = as_duration_s(file, ln["latency"], "link latency");
            if (!f.bandwidth_bps && !f.latency_s) {
                fail(file, ln,
                     "link " + f.from + " -> " + f.to + " gives neither bandwidth nor latency");
            }
            fed.links.push_back(std::move(f));
        }
    }
    if (const auto p = root["probing"]) parse_probing(file, p, fed.probing);
    if (const auto x = root["exchange"]) parse_exchange(file, x, fed.exchange);
    // Installed only once the whole file is valid: a broken file changes nothing.
    const auto caps = root["limits"] ? parse_limits(file, root["limits"])
                                     : std::vector<std::pair<limits::Cap, std::uint64_t>>{};
    limits::reset();
    for (const auto& [cap, bytes] : caps) limits::set(cap, bytes);
    return fed;
}

}  // namespace

std::vector<ProbingKey> probing_keys() {
    std::vector<ProbingKey> out;
    for (const auto& row : kProbing) out.push_back(row.info);
    return out;
}

Federation load_federation(const std::string& path, const UrlCheck& deep) {
    return parse(yaml::Doc::load_file(path), deep);
}

Federation load_federation_string(const std::string& text, const std::string& name,
                                  const UrlCheck& deep) {
    return parse(yaml::Doc::load_string(text, name), deep);
}

LinkFigures static_figures(const Federation& fed, const std::string& from, const std::string& to) {
    LinkFigures out{from, to, std::nullopt, std::nullopt};
    if (from == to) {
        out.bandwidth_bps = fed.intra_site_bandwidth_bps;
        out.latency_s = 0.0;
        return out;
    }
    for (const auto& l : fed.links) {
        if (l.from == from && l.to == to) {
            out = l;
            break;
        }
    }
    if (!out.bandwidth_bps) out.bandwidth_bps = fed.default_bandwidth_bps;
    if (!out.latency_s) out.latency_s = fed.default_latency_s;
    return out;
}

const Site* site_for_region(const Federation& fed, const std::string& region) {
    for (const auto& s : fed.sites) {
        for (const auto& r : s.regions)
            if (r == region) return &s;
    }
    return nullptr;
}

}  // namespace netplace::network
