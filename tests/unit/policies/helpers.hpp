#pragma once
// A small federation built in code, with round numbers so expected figures are easy to compute
// by hand: three sites a, b, c; links given explicitly.
#include "netplace/core/job.hpp"
#include "netplace/core/site.hpp"
#include "netplace/policies/engine.hpp"
#include "netplace/policies/inputs.hpp"

#include <stdexcept>
#include <string>
#include <vector>

namespace netplace::policies_test {

inline Site make_site(const std::string& name, unsigned cores, double speed, double core_hour,
                      double static_wait_s) {
    Site s;
    s.name = name;
    s.cluster = "cl-" + name;
    s.capacity.nodes = 10;
    s.capacity.cores = cores;
    s.capacity.memory_bytes = 10ull * 256 * (1ull << 30);  // 256 GiB per node
    s.speed = speed;
    s.price.core_hour = core_hour;
    s.static_wait_s = static_wait_s;
    s.partitions = {"batch"};
    return s;
}

inline LinkEstimate link(const std::string& from, const std::string& to, double bps, double lat) {
    LinkEstimate l;
    l.from = from;
    l.to = to;
    l.bandwidth_bps = bps;
    l.latency_s = lat;
    l.health = LinkHealth::up;
    l.measured = true;
    l.source = "probe";
    return l;
}

// a: 1000 cores, speed 1, 0.01/core-h, static wait 600 s
// b: 1000 cores, speed 0.5, 0.02/core-h, static wait 3600 s
// c: 1000 cores, speed 2, 0.005/core-h, static wait 0
// Links (from->to): every pair 1 Gbit/s, 0.1 s latency, except b->a and a->b 8 Gbit/s, 0.01 s.
inline Federation fed3() {
    Federation f;
    f.name = "t";
    f.local_site = "a";
    f.sites = {make_site("a", 1000, 1.0, 0.01, 600), make_site("b", 1000, 0.5, 0.02, 3600),
               make_site("c", 1000, 2.0, 0.005, 0)};
    return f;
}

inline std::vector<LinkEstimate> links3() {
    std::vector<LinkEstimate> l;
    for (const char* from : {"a", "b", "c"}) {
        for (const char* to : {"a", "b", "c"}) {
            if (std::string(from) == to) continue;
            const bool fast = (std::string(from) == "a" && std::string(to) == "b") ||
                              (std::string(from) == "b" && std::string(to) == "a");
            l.push_back(link(from, to, fast ? 8e9 : 1e9, fast ? 0.01 : 0.1));
        }
    }
    return l;
}

inline JobRequest job(unsigned cores, double runtime_s) {
    JobRequest j;
    j.name = "j";
    // An account no ACL names, as a Slurm door resolves one: a job without any account is
    // judged by every ACL (test_policies_enforcement.cpp covers that case).
    j.account = "staff";
    j.tasks = cores;
    j.walltime_s = runtime_s * 2;
    j.runtime_s = runtime_s;
    return j;
}

inline const SiteEstimate& est(const PlacementDecision& d, const std::string& site) {
    for (const auto& e : d.ranking)
        if (e.site == site) return e;
    throw std::runtime_error("site " + site + " not in ranking");
}

// The engine on named state, as the tests write it: make_inputs() site-indexes it first, as
// the loader does for files.
inline PlacementDecision place(const JobRequest& job, const Federation& fed,
                               const std::vector<LinkEstimate>& links,
                               const std::vector<SiteLoad>& loads, const policies::PolicySet& set) {
    return policies::place(job, policies::make_inputs(fed, set, links, loads));
}

}  // namespace netplace::policies_test
