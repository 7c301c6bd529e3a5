#include "netplace/slurm/collect.hpp"

#include "netplace/core/clock.hpp"
#include "netplace/core/error.hpp"
#include "netplace/core/job.hpp"
#include "netplace/core/units.hpp"
#include "netplace/slurm/rest.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <charconv>
#include <chrono>
#include <cstring>
#include <ctime>
#include <map>
#include <set>
#include <sstream>

extern char** environ;

namespace netplace::slurm {
namespace {

std::vector<std::string> fields(const std::string& line, size_t want, const char* what) {
    std::vector<std::string> f;
    std::string cur;
    std::istringstream in(line);
    while (std::getline(in, cur, '|')) f.push_back(cur);
    if (!line.empty() && line.back() == '|') f.emplace_back();
    if (f.size() != want)
        throw Error(fmt::format("{}: '{}' has {} fields, expected {}", what, line, f.size(), want));
    return f;
}

unsigned to_u(const std::string& s, const std::string& line) {
    try {
        size_t pos = 0;
        unsigned long v = std::stoul(s, &pos);
        if (pos != s.size()) throw std::invalid_argument(s);
        return static_cast<unsigned>(v);
    } catch (const std::exception&) {
        throw Error(fmt::format("'{}' in '{}' is not a count", s, line));
    }
}

unsigned bounded(const std::string& s, const std::string& line, const char* what, unsigned max) {
    unsigned v = 0;
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (s.empty() || ec != std::errc() || p != s.data() + s.size() || v > max)
        throw Error(
            fmt::format("sacctmgr: {} '{}' in '{}' is not a number up to {}", what, s, line, max));
    return v;
}

// Slurm time limits: "5:00", "1:00:00", "2-00:00:00"; UNLIMITED/NOT_SET/INVALID have no figure.
std::optional<double> slurm_time(const std::string& s) {
    if (s.empty() || s == "UNLIMITED" || s == "NOT_SET" || s == "INVALID" || s == "N/A")
        return std::nullopt;
    return units::parse_duration_s(s);
}

// GPUs in a gres/tres string: "gpu:4", "gpu:a100:4(S:0-1)", "gres:gpu:2", "gres/gpu:2"; 0 if none.
unsigned gpus_in(const std::string& s) {
    unsigned total = 0;
    size_t p = 0;
    while ((p = s.find("gpu", p)) != std::string::npos) {
        size_t end = s.find_first_of(",(", p);
        std::string item = s.substr(p, end == std::string::npos ? std::string::npos : end - p);
        auto c = item.rfind(':');
        if (c != std::string::npos) {
            try {
                total += static_cast<unsigned>(std::stoul(item.substr(c + 1)));
            } catch (const std::exception&) {
            }
        }
        p = end == std::string::npos ? s.size() : end;
    }
    return total;
}

}  // namespace

bool PartitionScope::counts(std::string_view partition) const {
    return listed.empty() || std::find(listed.begin(), listed.end(), partition) != listed.end();
}

bool PartitionScope::counts_any(std::string_view comma_list) const {
    if (listed.empty()) return true;
    while (!comma_list.empty()) {
        const auto c = comma_list.find(',');
        if (counts(comma_list.substr(0, c))) return true;
        if (c == std::string_view::npos) break;
        comma_list.remove_prefix(c + 1);
    }
    return false;
}

void PartitionScope::require_present(const std::vector<std::string>& present,
                                     const std::string& site) const {
    std::vector<std::string> missing;
    for (const auto& p : listed)
        if (std::find(present.begin(), present.end(), p) == present.end()) missing.push_back(p);
    if (!missing.empty())
        throw Error(fmt::format(
            "partition(s) {} listed for site '{}' in the federation file do not exist on its "
            "cluster (it has: {}): correct the site's `partitions:` list",
            fmt::join(missing, ", "), site,
            present.empty() ? "none" : fmt::format("{}", fmt::join(present, ", "))));
}

SiteLoad parse_cluster_load(const std::string& site, const std::string& sinfo_out,
                            const std::string& squeue_out, const PartitionScope& scope) {
    SiteLoad l;
    l.site = site;
    // sinfo -N lists a node once per partition: gather each node's rows first.
    struct Node {
        std::array<unsigned, 4> cpu{};  // CPUs allocated/idle/other(down, drained)/total
        std::string state, gres;
        bool counted = false, up = false;
    };
    std::map<std::string, Node> nodes;
    std::vector<std::string> present;
    std::istringstream in(sinfo_out);
    std::string line;
    while (std::getline(in, line)) {
        if (line.empty()) continue;
        auto f = fields(line, 6, "sinfo");
        std::string partition = f[4];
        if (!partition.empty() && partition.back() == '*') partition.pop_back();  // the default
        if (std::find(present.begin(), present.end(), partition) == present.end())
            present.push_back(partition);
        auto [it, first] = nodes.try_emplace(f[0]);
        Node& n = it->second;
        if (first) {
            std::istringstream c(f[1]);
            std::string part;
            for (size_t i = 0; i < 4; ++i) {
                if (!std::getline(c, part, '/'))
                    throw Error(fmt::format("sinfo: CPUs '{}' in '{}' is not A/I/O/T", f[1], line));
                n.cpu[i] = to_u(part, line);
            }
            n.state = f[2];
            while (!n.state.empty() &&
                   (n.state.back() == '*' || n.state.back() == '~' || n.state.back() == '#'))
                n.state.pop_back();
            n.gres = f[3];
        }
        if (scope.counts(partition)) {
            n.counted = true;
            n.up = n.up || f[5] == "up";
        }
    }
    scope.require_present(present, site);
    for (const auto& [name, n] : nodes) {
        if (!n.counted) continue;
        ++l.nodes_total;
        l.cores_total += n.cpu[3];
        if (n.up) l.cores_free += n.cpu[1];
        if (n.state == "idle") ++l.nodes_idle;
        if (n.gres != "(null)") l.gpus_total += gpus_in(n.gres);
    }
    unsigned gpus_used = 0;
    std::istringstream q(squeue_out);
    while (std::getline(q, line)) {
        if (line.empty()) continue;
        auto f = fields(line, 7, "squeue");
        const unsigned cpus = to_u(f[1], line);
        const unsigned job_nodes = to_u(f[5], line);
        if (!scope.counts_any(f[6])) continue;
        const unsigned gpus = gpus_in(f[4]) * std::max(1u, job_nodes);
        if (f[0] == "PENDING") {
            ++l.jobs_pending;
            // No limit (UNLIMITED): count a day, so an unlimited backlog still weighs something.
            double limit = slurm_time(f[2]).value_or(86400.0);
            l.pending_core_seconds += cpus * limit;
            l.pending_gpu_seconds += gpus * limit;
        } else {  // RUNNING, CONFIGURING
            ++l.jobs_running;
            gpus_used += gpus;
            double left = slurm_time(f[3]).value_or(slurm_time(f[2]).value_or(86400.0));
            l.running_core_seconds_left += cpus * left;
        }
    }
    l.gpus_free = l.gpus_total > gpus_used ? l.gpus_total - gpus_used : 0;
    l.age_s = 0;
    return l;
}

std::vector<Controller> parse_sacctmgr_clusters(const std::string& out) {
    std::vector<Controller> r;
    std::istringstream in(out);
    std::string line;
    while (std::getline(in, line)) {
        if (line.empty()) continue;
        auto f = fields(line, 6, "sacctmgr");
        if (f[0].empty()) throw Error(fmt::format("sacctmgr: '{}' has no cluster name", line));
        Controller c;
        c.cluster = f[0];
        c.host = f[1];
        c.port = f[2].empty() ? 0 : bounded(f[2], line, "ControlPort", 65535);
        c.rpc_version = f[3].empty() ? 0 : bounded(f[3], line, "RPC", 65535);
        c.select_plugin_id = f[4].empty() ? 0 : bounded(f[4], line, "PluginIDSelect", 0xffffffffu);
        c.flags = f[5];
        if (c.host.empty() || c.port == 0 || c.rpc_version == 0) continue;  // never registered
        r.push_back(std::move(c));
    }
    return r;
}

std::string run_command(const std::vector<std::string>& argv, double timeout_s) {
    if (argv.empty()) throw Error("run_command: empty command");
    int out[2], err[2];
    if (pipe2(out, O_CLOEXEC) != 0) throw Error(std::string("pipe: ") + std::strerror(errno));
    if (pipe2(err, O_CLOEXEC) != 0) {
        close(out[0]);
        close(out[1]);
        throw Error(std::string("pipe: ") + std::strerror(errno));
    }
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_adddup2(&fa, out[1], 1);
    posix_spawn_file_actions_adddup2(&fa, err[1], 2);
    std::vector<char*> args;
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    pid_t pid = 0;
    int rc = posix_spawnp(&pid, args[0], &fa, nullptr, args.data(), environ);
    posix_spawn_file_actions_destroy(&fa);
    close(out[1]);
    close(err[1]);
    if (rc != 0) {
        close(out[0]);
        close(err[0]);
        throw Error(fmt::format("{}: cannot run: {}", argv[0], std::strerror(rc)));
    }
    std::string so, se;
    auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(timeout_s);
    bool timed_out = false;
    std::array<pollfd, 2> p{{{out[0], POLLIN, 0}, {err[0], POLLIN, 0}}};
    int open_fds = 2;
    while (open_fds > 0) {
        auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
            deadline - std::chrono::steady_clock::now());
        if (left.count() <= 0) {
            timed_out = true;
            break;
        }
        if (poll(p.data(), p.size(), static_cast<int>(left.count())) < 0 && errno != EINTR) break;
        for (size_t i = 0; i < 2; ++i) {
            if (p[i].fd < 0 || !(p[i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
            char buf[8192];
            ssize_t n = read(p[i].fd, buf, sizeof buf);
            if (n > 0)
                (i == 0 ? so : se).append(buf, static_cast<size_t>(n));
            else {
                close(p[i].fd);
                p[i].fd = -1;
                --open_fds;
            }
        }
    }
    for (auto& x : p)
        if (x.fd >= 0) close(x.fd);
    if (timed_out) kill(pid, SIGKILL);
    int status = 0;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    std::string cmd = argv[0];
    for (size_t i = 1; i < argv.size(); ++i) cmd += " " + argv[i];
    if (timed_out)
        throw Error(fmt::format("{}: timed out after {}", cmd, units::format_duration(timeout_s)));
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        while (!se.empty() && se.back() == '\n') se.pop_back();
        auto nl = se.rfind('\n');
        throw Error(fmt::format("{}: exit status {}: {}", cmd,
                                WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status),
                                nl == std::string::npos ? se : se.substr(nl + 1)));
    }
    return so;
}

RuntimeHistory parse_runtime_history(const std::string& out, unsigned min_jobs) {
    struct Sum {
        double used = 0, asked = 0;
        unsigned jobs = 0;
        void add(double u, double a) {
            used += u;
            asked += a;
            ++jobs;
        }
        double ratio(unsigned min) const {
            return asked > 0 && jobs >= min ? std::min(1.0, used / asked) : 0.0;
        }
    };
    Sum site;
    std::map<std::string, Sum, std::less<>> accounts;
    std::istringstream in(out);
    std::string line;
    while (std::getline(in, line)) {
        if (line.empty()) continue;
        // Account last: an older collector's three columns still parse (no per-account figures).
        const bool has_account = std::count(line.begin(), line.end(), '|') == 3;
        auto f = fields(line, has_account ? 4 : 3, "sacct");
        // UNLIMITED / Partition_Limit limits have no figure; a job given no CPUs ran nothing.
        if (f[1].empty() || !std::isdigit(static_cast<unsigned char>(f[1][0]))) continue;
        const double cpus = to_u(f[2], line);
        const double limit_s = to_u(f[1], line) * 60.0;
        if (cpus == 0 || limit_s == 0) continue;
        const double used = to_u(f[0], line) * cpus, asked = limit_s * cpus;
        site.add(used, asked);
        if (has_account && !f[3].empty()) accounts[slurm_account_name(f[3])].add(used, asked);
    }
    RuntimeHistory h;
    h.site = site.ratio(min_jobs);
    for (const auto& [name, sum] : accounts)
        if (const double r = sum.ratio(min_jobs); r > 0) h.by_account.emplace(name, r);
    return h;
}

double parse_runtime_ratio(const std::string& out, unsigned min_jobs) {
    return parse_runtime_history(out, min_jobs).site;
}

CollectResult collect_sites(const Federation& fed, double timeout_s, const std::string& sinfo,
                            const std::string& squeue, const std::string& sacct) {
    CollectResult r;
    for (const auto& s : fed.sites) {
        const std::string cluster = s.cluster.empty() ? s.name : s.cluster;
        if (s.access == SiteAccess::rest) {
            // An independent centre: its slurmrestd, not sinfo/squeue -M (no shared slurmdbd),
            // and no controller record (sbatch never reaches it directly).
            try {
                r.loads.push_back(collect_rest_site(s, timeout_s, now_unix()));
            } catch (const std::exception& e) {
                r.errors.push_back(fmt::format("site {} (REST): {}", s.name, e.what()));
            }
            continue;
        }
        try {
            auto a = run_command({sinfo, "-M", cluster, "-h", "-N", "-o", kSinfoFormat}, timeout_s);
            auto b = run_command(
                {squeue, "-M", cluster, "-h", "-t", "PD,R,CF", "-o", kSqueueFormat}, timeout_s);
            r.loads.push_back(parse_cluster_load(s.name, a, b, PartitionScope{s.partitions}));
            r.answered.push_back(cluster);
            try {
                RuntimeHistory h = parse_runtime_history(
                    run_command({sacct, "-M", cluster, "-a", "-X", "-n", "-P", "-S", "now-7days",
                                 "-E", "now", "-s", "CD,TO", "-o", kSacctRuntimeFormat},
                                timeout_s));
                r.loads.back().runtime_ratio = h.site;
                r.loads.back().runtime_ratio_by_account = std::move(h.by_account);
            } catch (const std::exception& e) {
                r.warnings.push_back(
                    fmt::format("site {} (cluster {}): accounting history not read, waits from "
                                "time limits: {}",
                                s.name, cluster, e.what()));
            }
        } catch (const std::exception& e) {
            r.errors.push_back(fmt::format("site {} (cluster {}): {}", s.name, cluster, e.what()));
        }
    }
    return r;
}

std::vector<Controller> collect_controllers(const std::vector<std::string>& clusters,
                                            double timeout_s, const std::string& sacctmgr) {
    if (clusters.empty()) return {};
    std::string list;
    for (const auto& c : clusters) list += (list.empty() ? "" : ",") + c;
    auto out = run_command({sacctmgr, "-n", "-P", "show", "cluster", "where", "cluster=" + list,
                            std::string("format=") + kSacctmgrClusterFormat},
                           timeout_s);
    auto all = parse_sacctmgr_clusters(out);
    std::vector<Controller> r;
    for (auto& c : all)
        if (std::find(clusters.begin(), clusters.end(), c.cluster) != clusters.end())
            r.push_back(std::move(c));
    return r;
}

}  // namespace netplace::slurm
