#include "netplace/data/catalog.hpp"

#include "netplace/core/units.hpp"
#include "netplace/core/yaml.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <cstdlib>

namespace netplace::data {
namespace {

const std::initializer_list<std::string_view> top_keys = {"datasets", "staging"};
const std::initializer_list<std::string_view> dataset_keys = {"name", "size", "sha256", "residency",
                                                              "replicas"};
const std::initializer_list<std::string_view> replica_keys = {"site", "url"};
const std::initializer_list<std::string_view> staging_keys = {
    "data_dir",        "state_dir",       "quota",          "rate_cap", "streams", "chunk",
    "connect_timeout", "low_speed_limit", "low_speed_time", "ca_file",  "upload"};

// The scheme only: the submission path reads this file and must not need libcurl to do so;
// `netplace stage` hands the URL to libcurl, which rejects anything else before connecting.
std::string url_of(const std::string& f, const YAML::Node& n, const std::string& what) {
    const std::string url = yaml::as_string(f, n, what);
    const auto sep = url.find("://");
    std::string scheme = sep == std::string::npos ? "" : url.substr(0, sep);
    for (auto& c : scheme) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (scheme != "http" && scheme != "https")
        yaml::fail(f, n, what + " '" + url + "' must start with http:// or https://");
    if (sep + 3 >= url.size() || url[sep + 3] == '/') yaml::fail(f, n, what + " has no host");
    return url;
}

std::string site_of(const std::string& f, const YAML::Node& n, const std::string& what,
                    const std::vector<std::string>& sites) {
    std::string s = yaml::as_name(f, n, what);
    if (!sites.empty() && std::find(sites.begin(), sites.end(), s) == sites.end()) {
        std::string msg = fmt::format("{} '{}' is not a site of the federation", what, s);
        if (auto c = yaml::closest(s, sites)) msg += fmt::format(": did you mean '{}'?", *c);
        yaml::fail(f, n, msg);
    }
    return s;
}

std::vector<Replica> replica_list(const std::string& f, const YAML::Node& n,
                                  const std::string& what, const std::vector<std::string>& sites) {
    if (!n.IsSequence() || n.size() == 0)
        yaml::fail(f, n, what + " must be a non-empty list of `{site: S, url: URL}`");
    std::vector<Replica> out;
    for (const auto& r : n) {
        yaml::check_map(f, r, what + " entry", replica_keys);
        Replica rep;
        rep.site = site_of(f, yaml::require(f, r, "site", what + " entry"), what + " site", sites);
        rep.url = url_of(f, yaml::require(f, r, "url", what + " entry"), what + " url");
        for (const auto& prev : out)
            if (prev.site == rep.site)
                yaml::fail(f, r["site"], fmt::format("{}: site '{}' listed twice", what, rep.site));
        out.push_back(std::move(rep));
    }
    return out;
}

StagingSettings staging_of(const std::string& f, const YAML::Node& n,
                           const std::vector<std::string>& sites) {
    yaml::check_map(f, n, "staging", staging_keys);
    StagingSettings s;
    auto path = [&](const char* key, std::string& dst) {
        if (auto v = n[key]) {
            dst = yaml::as_string(f, v, std::string("staging ") + key);
            if (dst.empty() || dst.front() != '/')
                yaml::fail(f, v, std::string("staging ") + key + " must be an absolute path");
            while (dst.size() > 1 && dst.back() == '/') dst.pop_back();
        }
    };
    path("data_dir", s.data_dir);
    path("state_dir", s.state_dir);
    if (auto v = n["quota"]) s.quota_bytes = yaml::as_size(f, v, "staging quota");
    if (auto v = n["rate_cap"]) s.rate_cap_bps = yaml::as_rate_bps(f, v, "staging rate_cap");
    if (auto v = n["streams"])
        s.streams = static_cast<unsigned>(yaml::as_integer(f, v, "staging streams", 1, 64));
    if (auto v = n["chunk"]) {
        s.chunk_bytes = yaml::as_size(f, v, "staging chunk");
        if (s.chunk_bytes < (64u << 10) || s.chunk_bytes > (1ull << 30))
            yaml::fail(f, v, "staging chunk must be between 64KiB and 1GiB (e.g. `chunk: 16MiB`)");
    }
    if (auto v = n["connect_timeout"])
        s.connect_timeout_s = yaml::as_duration_s(f, v, "staging connect_timeout");
    if (auto v = n["low_speed_limit"])
        s.low_speed_bps = yaml::as_rate_bps(f, v, "staging low_speed_limit");
    if (auto v = n["low_speed_time"])
        s.low_speed_time_s = yaml::as_duration_s(f, v, "staging low_speed_time");
    if (auto v = n["ca_file"]) s.ca_file = yaml::as_string(f, v, "staging ca_file");
    if (auto v = n["upload"]) s.upload = replica_list(f, v, "staging upload", sites);
    return s;
}

Catalog parse(const yaml::Doc& doc, const std::vector<std::string>& sites) {
    const std::string& f = doc.file();
    const YAML::Node& root = doc.root();
    Catalog c;
    c.source = f;
    if (root.IsNull()) return c;  // an empty catalog: every dataset is the user's to declare
    yaml::check_map(f, root, "the dataset catalog", top_keys);
    if (auto list = root["datasets"]) {
        if (!list.IsSequence())
            yaml::fail(f, list, "datasets must be a list (`- {name: d, size: .., sha256: ..}`)");
        for (const auto& d : list) {
            yaml::check_map(f, d, "dataset", dataset_keys);
            CatalogDataset ds;
            ds.name = yaml::as_name(f, yaml::require(f, d, "name", "dataset"), "dataset name");
            const std::string what = "dataset '" + ds.name + "'";
            for (const auto& prev : c.datasets)
                if (prev.name == ds.name) yaml::fail(f, d["name"], what + " is listed twice");
            const auto size = yaml::require(f, d, "size", what);
            ds.bytes = yaml::as_size(f, size, what + " size");
            if (ds.bytes == 0) yaml::fail(f, size, what + " size must be greater than zero");
            const auto sum = yaml::require(f, d, "sha256", what);
            ds.sha256 = yaml::as_string(f, sum, what + " sha256");
            for (auto& ch : ds.sha256)
                ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
            if (ds.sha256.size() != 64 ||
                !std::all_of(ds.sha256.begin(), ds.sha256.end(),
                             [](unsigned char ch) { return std::isxdigit(ch); }))
                yaml::fail(f, sum,
                           what + " sha256 must be 64 hexadecimal digits (`sha256sum FILE`)");
            if (auto r = d["residency"]) ds.residency = yaml::as_name(f, r, what + " residency");
            ds.replicas =
                replica_list(f, yaml::require(f, d, "replicas", what), what + " replicas", sites);
            c.datasets.push_back(std::move(ds));
        }
    }
    if (auto s = root["staging"]) c.staging = staging_of(f, s, sites);
    return c;
}

}  // namespace

const CatalogDataset* Catalog::find(const std::string& name) const {
    for (const auto& d : datasets)
        if (d.name == name) return &d;
    return nullptr;
}

Catalog load_catalog(const std::string& path, const std::vector<std::string>& sites) {
    return parse(yaml::Doc::load_file(path), sites);
}

Catalog load_catalog_string(const std::string& text, const std::string& name,
                            const std::vector<std::string>& sites) {
    return parse(yaml::Doc::load_string(text, name), sites);
}

std::vector<std::string> resolve_inputs(std::vector<Dataset>& inputs, const Catalog* catalog) {
    std::vector<std::string> warnings;
    for (auto& d : inputs) {
        const CatalogDataset* c = catalog ? catalog->find(d.name) : nullptr;
        if (!c) {
            if (d.site.empty() || d.bytes == 0) {
                throw Error(fmt::format(
                    "dataset '{}' is not in the dataset catalog{}: name one it lists or declare "
                    "your own as {}@SITE:SIZE",
                    d.name,
                    catalog ? " (" + catalog->source + ")" : std::string(" (none configured)"),
                    d.name));
            }
            continue;  // the user's own data: their figures, no residency
        }
        const bool declared = !d.site.empty() || d.bytes != 0;
        if (declared && (d.site != c->home() || d.bytes != c->bytes))
            warnings.push_back(
                fmt::format("dataset '{}' is in the catalog ({} at {}): your {}@{}:{} is ignored",
                            d.name, units::format_size(c->bytes), c->home(), d.name,
                            d.site.empty() ? "?" : d.site, units::format_size(d.bytes)));
        d.site = c->home();
        d.bytes = c->bytes;
        d.residency = c->residency;  // the catalog's word, never the user's
    }
    return warnings;
}

}  // namespace netplace::data

namespace netplace::data {
std::string default_catalog_path() {
    if (const char* e = std::getenv("NETPLACE_CATALOG"); e && *e) return e;
    return "/etc/netplace/datasets.yaml";
}
}  // namespace netplace::data
