// The affinity planner. Runs inside slurmstepd (SPANK task_init), so it is a pure function of
// the plain NodeTopology: no hwloc, no I/O, a few vectors sized by the core count.
#include "netplace/topology/plan.hpp"

#include "netplace/core/error.hpp"

#include <algorithm>
#include <limits>
#include <map>
#include <tuple>

namespace netplace::topology {
namespace {

using Key = std::tuple<unsigned, std::uint64_t, unsigned>;  // (tier, detail, pci order)

// Where part `i` of `parts` starts when `total` items are cut as evenly as possible: sizes differ
// by at most one, the larger parts come first, and with fewer items than parts the items are
// spread out (0, 2 of 4) rather than bunched at the front.
size_t share_begin(size_t i, size_t parts, size_t total) { return (i * total + parts - 1) / parts; }

// A set of cores the ranks using it prefer (a GPU's locality or a NUMA node), and its ranks.
struct Domain {
    std::vector<unsigned> cores;  // indexes into topo.cores, ascending
    std::vector<unsigned> ranks;
    std::vector<unsigned> owned;   // cores it finally hands out, home cores first
    std::optional<unsigned> numa;  // where "near" is measured from when it must borrow
    std::optional<unsigned> package;
};

std::string plural(size_t n, const char* what) {
    return std::to_string(n) + " " + what + (n == 1 ? "" : "s");
}

bool subset(const CpuList& small, const CpuList& big) {
    return std::includes(big.begin(), big.end(), small.begin(), small.end());
}

class Planner {
  public:
    Planner(const NodeTopology& topo, unsigned tasks, unsigned gpus_per_task)
        : topo_(topo), tasks_(tasks), per_(gpus_per_task) {}

    std::vector<TaskPlan> run() {
        check();
        plans_.resize(tasks_);
        for (unsigned r = 0; r < tasks_; ++r) plans_[r].rank = r;
        if (per_ > 0)
            gpu_domains();
        else
            numa_domains();
        allocate_cores();
        assign_nics();
        return std::move(plans_);
    }

  private:
    void check() const {
        const std::string where = topo_.source.empty() ? "this node" : topo_.source;
        if (tasks_ == 0)
            throw Error("plan for " + where + ": the number of tasks must be at least 1");
        if (topo_.cores.empty()) throw Error("plan for " + where + ": the topology has no cores");
        if (tasks_ > topo_.cores.size())
            throw Error("plan for " + where + ": " + plural(tasks_, "task") + " but only " +
                        plural(topo_.cores.size(), "core") +
                        " (each task needs a core of its own)");
        if (per_ > 0 && topo_.gpus.empty())
            throw Error("plan for " + where + ": " + plural(per_, "GPU") +
                        " per task requested but the node has no GPUs");
        if (per_ > topo_.gpus.size())
            throw Error("plan for " + where + ": " + plural(per_, "GPU") +
                        " per task requested but the node has only " +
                        plural(topo_.gpus.size(), "GPU"));
    }

    std::vector<unsigned> cores_within(const CpuList& cpus) const {
        std::vector<unsigned> out;
        for (unsigned c = 0; c < topo_.cores.size(); ++c)
            if (subset(topo_.cores[c].pus, cpus)) out.push_back(c);
        return out;
    }

    Domain& domain_for(std::vector<unsigned> cores) {
        for (auto& d : domains_)
            if (d.cores == cores) return d;
        Domain d;
        d.cores = std::move(cores);
        domains_.push_back(std::move(d));
        return domains_.back();
    }

    // NVLinks between the node's GPUs (NVML): a, b -> direct links either way.
    unsigned nvlinks(unsigned a, unsigned b) const {
        unsigned n = 0;
        for (const auto& l : topo_.gpus[a].nvlink)
            n += l.pci == topo_.gpus[b].pci.bus_id ? l.links : 0;
        for (const auto& l : topo_.gpus[b].nvlink)
            n += l.pci == topo_.gpus[a].pci.bus_id ? l.links : 0;
        return n;
    }

    // Multi-GPU tasks talk GPU to GPU, so when NVML reports direct NVLinks between GPUs, a group
    // is grown greedily from the first free GPU (locality order) by the free GPU with the most
    // links into the group (ties: locality order). Empty when no GPU pair is NVLinked (NVSwitch
    // systems link every GPU to the switches alike: locality decides there).
    std::vector<std::vector<unsigned>> nvlink_groups(const std::vector<unsigned>& order) const {
        std::vector<std::vector<unsigned>> groups;
        if (per_ < 2) return groups;
        bool any = false;
        for (unsigned a = 0; a < order.size() && !any; ++a)
            for (unsigned b = a + 1; b < order.size() && !any; ++b) any = nvlinks(a, b) > 0;
        if (!any) return groups;
        std::vector<bool> used(order.size(), false);
        for (unsigned seed : order) {
            if (used[seed]) continue;
            std::vector<unsigned> g{seed};
            used[seed] = true;
            while (g.size() < per_) {
                unsigned best = 0, best_links = 0;
                bool found = false;
                for (unsigned c : order) {
                    if (used[c]) continue;
                    unsigned links = 0;
                    for (unsigned m : g) links += nvlinks(m, c);
                    if (!found || links > best_links) {
                        best = c;
                        best_links = links;
                        found = true;
                    }
                }
                if (!found) break;
                g.push_back(best);
                used[best] = true;
            }
            if (g.size() < per_) break;  // leftover GPUs, as in the locality grouping
            std::sort(g.begin(), g.end());
            groups.push_back(std::move(g));
        }
        return groups;
    }

    // GPUs are grouped per_ at a time, nearest together (same package, then same NUMA node);
    // groups then go to ranks: one each, spread over the node when there are more groups than
    // ranks, several contiguous ranks per group when there are fewer.
    void gpu_domains() {
        const auto& gpus = topo_.gpus;
        std::vector<unsigned> order(gpus.size());
        for (unsigned i = 0; i < order.size(); ++i) order[i] = i;
        constexpr unsigned none = std::numeric_limits<unsigned>::max();
        std::stable_sort(order.begin(), order.end(), [&](unsigned a, unsigned b) {
            return std::make_tuple(gpus[a].package.value_or(none), gpus[a].numa.value_or(none), a) <
                   std::make_tuple(gpus[b].package.value_or(none), gpus[b].numa.value_or(none), b);
        });
        std::vector<std::vector<unsigned>> groups = nvlink_groups(order);
        if (groups.empty()) {
            for (size_t i = 0; i + per_ <= order.size(); i += per_) {
                std::vector<unsigned> g(order.begin() + static_cast<long>(i),
                                        order.begin() + static_cast<long>(i + per_));
                std::sort(g.begin(), g.end());
                groups.push_back(std::move(g));
            }
        }
        // Rank r meets GPU r when each has one: order groups by their first GPU (PCI order).
        std::sort(groups.begin(), groups.end());
        const size_t ng = groups.size();
        std::vector<size_t> group_of(tasks_);
        if (tasks_ <= ng) {
            for (unsigned r = 0; r < tasks_; ++r) group_of[r] = share_begin(r, tasks_, ng);
        } else {
            for (size_t g = 0; g < ng; ++g)
                for (size_t r = share_begin(g, ng, tasks_); r < share_begin(g + 1, ng, tasks_); ++r)
                    group_of[r] = g;
        }
        std::vector<int> domain_of_group(ng, -1);  // ranks sharing a group share its domain
        for (unsigned r = 0; r < tasks_; ++r) {
            const auto& g = groups[group_of[r]];
            for (unsigned gi : g) {
                plans_[r].gpu_indices.push_back(gi);
                plans_[r].gpus.push_back(gpus[gi].pci.bus_id);
            }
            int& di = domain_of_group[group_of[r]];
            if (di < 0) {
                CpuList local;
                for (unsigned gi : g)
                    local.insert(local.end(), gpus[gi].cpus.begin(), gpus[gi].cpus.end());
                std::sort(local.begin(), local.end());
                local.erase(std::unique(local.begin(), local.end()), local.end());
                auto cores = cores_within(local);
                if (cores.empty()) cores = cores_within(all_pus());  // locality unknown: anywhere
                Domain& d = domain_for(std::move(cores));
                if (!d.numa) d.numa = gpus[g.front()].numa;
                if (!d.package) d.package = gpus[g.front()].package;
                di = static_cast<int>(&d - domains_.data());
            }
            domains_[static_cast<size_t>(di)].ranks.push_back(r);
        }
    }

    CpuList all_pus() const {
        CpuList all;
        for (const auto& c : topo_.cores) all.insert(all.end(), c.pus.begin(), c.pus.end());
        std::sort(all.begin(), all.end());
        return all;
    }

    // CPU-only: contiguous blocks of ranks per CPU NUMA node, in proportion to its cores.
    void numa_domains() {
        std::map<unsigned, std::vector<unsigned>> by_numa;  // os_index -> cores
        std::vector<unsigned> homeless;
        for (unsigned c = 0; c < topo_.cores.size(); ++c) {
            if (topo_.cores[c].numa)
                by_numa[*topo_.cores[c].numa].push_back(c);
            else
                homeless.push_back(c);
        }
        std::vector<std::pair<std::optional<unsigned>, std::vector<unsigned>>> parts;
        for (auto& [os, cores] : by_numa) parts.emplace_back(os, std::move(cores));
        if (!homeless.empty()) parts.emplace_back(std::nullopt, std::move(homeless));
        const size_t total = topo_.cores.size();
        size_t before = 0;
        unsigned rank = 0;
        for (auto& [os, cores] : parts) {
            const size_t n = cores.size();
            const size_t begin = share_begin(before, total, tasks_),
                         end = share_begin(before + n, total, tasks_);
            before += n;
            if (begin == end) continue;
            Domain d;
            d.cores = std::move(cores);
            d.numa = os;
            d.package = topo_.cores[d.cores.front()].package;
            for (size_t r = begin; r < end; ++r) d.ranks.push_back(rank++);
            domains_.push_back(std::move(d));
        }
    }

    Key core_nearness(const Domain& d, unsigned core) const {
        const Core& c = topo_.cores[core];
        if (d.numa && c.numa && *d.numa == *c.numa) return {0, 0, core};
        std::uint64_t dist = std::numeric_limits<std::uint64_t>::max();
        if (d.numa && c.numa) dist = topo_.numa_distance(*d.numa, *c.numa).value_or(dist);
        if (d.package && c.package == *d.package)
            return {1, dist, core};  // nearer nodes of the package first
        return {2, dist, core};
    }

    // Every domain takes its own cores (smaller, more specific domains first where localities
    // nest). A domain with more ranks than cores borrows the nearest free cores, and failing
    // that cores of the domain with the most cores per rank. Then each domain's cores are cut
    // into contiguous, balanced runs, one per rank.
    void allocate_cores() {
        std::vector<bool> taken(topo_.cores.size(), false);
        std::vector<size_t> order(domains_.size());
        for (size_t i = 0; i < order.size(); ++i) order[i] = i;
        std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
            return domains_[a].cores.size() < domains_[b].cores.size();
        });
        for (size_t i : order) {
            for (unsigned c : domains_[i].cores)
                if (!taken[c]) {
                    taken[c] = true;
                    domains_[i].owned.push_back(c);
                }
        }
        for (size_t i : order) {
            Domain& d = domains_[i];
            if (d.owned.size() >= d.ranks.size()) continue;
            // Free cores, nearest first; ranked once per short domain, not per borrowed core.
            std::vector<std::pair<Key, unsigned>> free;
            for (unsigned c = 0; c < taken.size(); ++c)
                if (!taken[c]) free.emplace_back(core_nearness(d, c), c);
            std::sort(free.begin(), free.end());
            size_t next = 0;
            while (d.owned.size() < d.ranks.size()) {
                while (next < free.size() && taken[free[next].second]) ++next;
                if (next < free.size()) {
                    taken[free[next].second] = true;
                    d.owned.push_back(free[next].second);
                    continue;
                }
                Domain* donor = nullptr;
                for (auto& o : domains_) {
                    if (&o == &d || o.owned.size() <= o.ranks.size()) continue;
                    if (!donor ||
                        o.owned.size() * donor->ranks.size() > donor->owned.size() * o.ranks.size())
                        donor = &o;
                }
                if (!donor)
                    throw Error("plan: internal error: no core left for a rank");  // tasks <= cores
                d.owned.push_back(donor->owned.back());
                donor->owned.pop_back();
            }
        }
        for (auto& d : domains_) {
            const size_t m = d.owned.size(), k = d.ranks.size();
            for (size_t j = 0; j < k; ++j) {
                TaskPlan& p = plans_[d.ranks[j]];
                std::map<unsigned, size_t> per_numa;
                for (size_t x = share_begin(j, k, m); x < share_begin(j + 1, k, m); ++x) {
                    const Core& c = topo_.cores[d.owned[x]];
                    p.cpus.insert(p.cpus.end(), c.pus.begin(), c.pus.end());
                    if (c.numa) ++per_numa[*c.numa];
                }
                std::sort(p.cpus.begin(), p.cpus.end());
                // The rank's memory node: the one holding most of its cores (lowest on a tie).
                size_t most = 0;
                for (const auto& [os, n] : per_numa)
                    if (n > most) p.numa = os, most = n;
            }
        }
    }

    static size_t shared_bridges(const PciLocation& a, const PciLocation& b) {
        size_t n = 0;
        while (n < a.bridges.size() && n < b.bridges.size() && a.bridges[n] == b.bridges[n]) ++n;
        return n;
    }

    // Smaller is nearer: same PCIe switch (deeper shared bridge first), same NUMA node, same
    // package, then NUMA distance.
    Key nic_nearness(const Nic& nic, const PciLocation* pci, std::optional<unsigned> numa,
                     std::optional<unsigned> package, unsigned index) const {
        if (pci)
            if (size_t s = shared_bridges(*pci, nic.pci); s > 0)
                return {0, 1000 - std::min<size_t>(s, 999), index};
        if (numa && nic.numa && *numa == *nic.numa) return {1, 0, index};
        if (package && nic.package && *package == *nic.package) return {2, 0, index};
        if (numa && nic.numa)
            if (auto d = topo_.numa_distance(*numa, *nic.numa)) return {3, *d, index};
        return {4, 0, index};
    }

    void assign_nics() {
        std::vector<unsigned> candidates;
        bool any_fabric = false;
        for (unsigned i = 0; i < topo_.nics.size(); ++i)
            if (!topo_.nics[i].os_devices.empty()) {
                candidates.push_back(i);
                any_fabric = any_fabric || topo_.nics[i].fabric;
            }
        if (any_fabric)
            std::erase_if(candidates, [&](unsigned i) { return !topo_.nics[i].fabric; });
        if (candidates.empty()) return;
        std::vector<unsigned> load(topo_.nics.size(), 0);
        auto pick = [&](const PciLocation* pci, std::optional<unsigned> numa,
                        std::optional<unsigned> package) {
            // Equally near NICs share the ranks out: the least used one wins, then PCI order.
            unsigned best = candidates.front();
            auto key = [&](unsigned i) {
                const Key k = nic_nearness(topo_.nics[i], pci, numa, package, i);
                return std::make_tuple(std::get<0>(k), std::get<1>(k), load[i], i);
            };
            for (unsigned i : candidates)
                if (key(i) < key(best)) best = i;
            return best;
        };
        for (auto& p : plans_) {
            std::vector<unsigned> chosen;
            if (p.gpu_indices.empty()) {
                std::optional<unsigned> package;
                if (p.numa) {
                    const int pos = topo_.numa_position(*p.numa);
                    if (pos >= 0) package = topo_.numa_nodes[static_cast<size_t>(pos)].package;
                }
                chosen.push_back(pick(nullptr, p.numa, package));
            } else {
                for (unsigned gi : p.gpu_indices) {
                    const Gpu& g = topo_.gpus[gi];
                    const unsigned n = pick(&g.pci, g.numa, g.package);
                    if (std::find(chosen.begin(), chosen.end(), n) == chosen.end())
                        chosen.push_back(n);
                }
            }
            for (unsigned n : chosen) {
                ++load[n];
                const Nic& nic = topo_.nics[n];
                const auto& names = nic.rdma_devices.empty() ? nic.os_devices : nic.rdma_devices;
                p.nics.insert(p.nics.end(), names.begin(), names.end());
            }
        }
    }

    const NodeTopology& topo_;
    unsigned tasks_, per_;
    std::vector<TaskPlan> plans_;
    std::vector<Domain> domains_;
};

}  // namespace

std::vector<TaskPlan> plan_tasks(const NodeTopology& topo, unsigned tasks, unsigned gpus_per_task) {
    return Planner(topo, tasks, gpus_per_task).run();
}

}  // namespace netplace::topology
