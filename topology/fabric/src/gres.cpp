// NodeTopology -> gres.conf lines. See gres.hpp for the format and the Cores= numbering.
#include "netplace/fabric/gres.hpp"

#include "netplace/fabric/hostlist.hpp"

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <set>
#include <sstream>

namespace netplace::fabric {
namespace {

// Slurm core indexes (hwloc logical core indexes) of the cores with a PU in `cpus`.
CpuList cores_in(const NodeTopology& topo, const CpuList& cpus) {
    const std::set<unsigned> in(cpus.begin(), cpus.end());
    CpuList out;
    for (const auto& c : topo.cores)
        if (std::any_of(c.pus.begin(), c.pus.end(), [&](unsigned p) { return in.count(p) > 0; }))
            out.push_back(c.logical_index);
    std::sort(out.begin(), out.end());
    return out;
}

std::string cores_field(const NodeTopology& topo, const CpuList& cpus) {
    const CpuList cores = cores_in(topo, cpus);
    return cores.empty() ? "" : " Cores=" + format_cpulist(cores);
}

bool starts_with(const std::string& s, const char* p) { return s.rfind(p, 0) == 0; }

}  // namespace

std::string gres_type(const std::string& model) {
    std::string m = model;
    // pci.ids style "GA100 [A100 SXM4 40GB]": the marketing name is in the brackets.
    if (const auto open = m.find('['); open != std::string::npos) {
        const auto close = m.find(']', open);
        m = m.substr(open + 1, close == std::string::npos ? std::string::npos : close - open - 1);
    }
    std::istringstream words(m);
    std::string w;
    static const std::set<std::string> vendor_words = {"nvidia",   "tesla",  "amd",     "radeon",
                                                       "instinct", "intel",  "geforce", "quadro",
                                                       "data",     "center", "gpu"};
    auto clean = [](const std::string& word) {
        std::string lower;
        for (char c : word) lower += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        lower = lower.substr(0, lower.find('-'));  // "a100-sxm4-40gb" -> "a100"
        std::string out;
        for (char c : lower)
            if (std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '.') out += c;
        return out;
    };
    std::vector<std::string> rest;
    while (words >> w) {
        const std::string c = clean(w);
        if (!c.empty() && (!rest.empty() || !vendor_words.count(c))) rest.push_back(c);
    }
    if (rest.empty()) return {};
    // A family word followed by a number names one model: "RTX 8000" -> "rtx8000".
    const bool letters = std::all_of(rest[0].begin(), rest[0].end(), [](char c) {
        return std::isalpha(static_cast<unsigned char>(c));
    });
    if (letters && rest.size() > 1 && std::isdigit(static_cast<unsigned char>(rest[1][0])))
        return rest[0] + rest[1];
    return rest[0];
}

NodeGres node_gres(const std::string& node, const NodeTopology& topo, const GresOptions& options,
                   const std::map<std::string, unsigned>& uverbs) {
    NodeGres out;
    out.node = node;
    const std::string& root = options.dev_root;
    bool minor_guessed = false;
    for (size_t i = 0; i < topo.gpus.size(); ++i) {
        const Gpu& g = topo.gpus[i];
        std::string file;
        if (g.vendor == "nvidia") {
            // NVML gives the minor; without it the driver's probe order (PCI order) is assumed.
            if (!g.minor) minor_guessed = true;
            file = root + "/dev/nvidia" + std::to_string(g.minor ? *g.minor : i);
        } else {
            for (const auto& d : g.os_devices)
                if (starts_with(d, "renderD")) file = root + "/dev/dri/" + d;
        }
        if (file.empty()) {
            out.notes.push_back(node + ": GPU " + g.pci.bus_id +
                                " has no known device file (no DRM render node in the topology): "
                                "left out");
            continue;
        }
        const std::string type = options.type.empty() ? gres_type(g.model) : options.type;
        out.lines.push_back("Name=gpu" + (type.empty() ? "" : " Type=" + type) + " File=" + file +
                            cores_field(topo, g.cpus));
        ++out.count[type.empty() ? "gpu" : "gpu:" + type];
    }
    if (minor_guessed)
        out.notes.push_back(node +
                            ": /dev/nvidiaN numbered in PCI order (no NVML minor numbers in this "
                            "topology; run `netplace fabric gres` on the node to read them)");
    bool uverbs_guessed = false;
    if (options.nics) {
        // Without the live mapping, uverbs devices follow the RDMA devices in PCI order, Ethernet
        // ports with RDMA (RoCE) included, as the kernel registers them.
        unsigned next = 0;
        for (const auto& n : topo.nics) {
            for (const auto& dev : n.rdma_devices) {
                unsigned index = next++;
                if (auto it = uverbs.find(dev); it != uverbs.end())
                    index = it->second;
                else
                    uverbs_guessed = true;
                if (!n.fabric) continue;
                out.lines.push_back("Name=nic File=" + root + "/dev/infiniband/uverbs" +
                                    std::to_string(index) + cores_field(topo, n.cpus));
                ++out.count["nic"];
            }
        }
    }
    if (uverbs_guessed && out.count.count("nic"))
        out.notes.push_back(node +
                            ": /dev/infiniband/uverbsN numbered in PCI order of the RDMA devices "
                            "(run `netplace fabric gres` on the node to read the real mapping)");
    return out;
}

std::map<std::string, unsigned> live_uverbs(const std::string& sysfs) {
    namespace fs = std::filesystem;
    std::map<std::string, unsigned> out;
    std::error_code ec;
    for (const auto& dev : fs::directory_iterator(sysfs + "/class/infiniband", ec)) {
        std::error_code ec2;
        for (const auto& v :
             fs::directory_iterator(dev.path() / "device" / "infiniband_verbs", ec2)) {
            const std::string name = v.path().filename().string();
            if (name.rfind("uverbs", 0) == 0 && name.size() > 6 &&
                std::all_of(name.begin() + 6, name.end(),
                            [](char c) { return std::isdigit(static_cast<unsigned char>(c)); }))
                out[dev.path().filename().string()] =
                    static_cast<unsigned>(std::stoul(name.substr(6)));
        }
    }
    return out;
}

std::string gres_conf(const std::vector<NodeGres>& nodes, const std::string& header_comment) {
    std::string out = header_comment;
    // Identical nodes share lines: group by the whole line set, in first-seen order.
    std::vector<std::pair<std::vector<std::string>, std::vector<std::string>>> groups;
    std::vector<std::pair<std::map<std::string, unsigned>, std::vector<std::string>>> counts;
    std::set<std::string> types;
    for (const auto& n : nodes) {
        auto g = std::find_if(groups.begin(), groups.end(),
                              [&](const auto& x) { return x.first == n.lines; });
        if (g == groups.end())
            groups.emplace_back(n.lines, std::vector<std::string>{n.node});
        else
            g->second.push_back(n.node);
        auto c = std::find_if(counts.begin(), counts.end(),
                              [&](const auto& x) { return x.first == n.count; });
        if (c == counts.end())
            counts.emplace_back(n.count, std::vector<std::string>{n.node});
        else
            c->second.push_back(n.node);
        for (const auto& [k, v] : n.count) types.insert(k.substr(0, k.find(':')));
    }
    for (const auto& [lines, names] : groups)
        for (const auto& l : lines) out += "NodeName=" + compress_hostlist(names) + " " + l + "\n";
    out += "# slurm.conf:\n";
    if (!types.empty()) {
        std::string t;
        for (const auto& x : types) t += (t.empty() ? "" : ",") + x;
        out += "#   GresTypes=" + t + "\n";
    }
    for (const auto& [count, names] : counts) {
        if (count.empty()) continue;
        std::string g;
        for (const auto& [k, v] : count) g += (g.empty() ? "" : ",") + k + ":" + std::to_string(v);
        out += "#   NodeName=" + compress_hostlist(names) + " Gres=" + g + "\n";
    }
    return out;
}

}  // namespace netplace::fabric
