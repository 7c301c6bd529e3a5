// The one translation unit that includes <hwloc.h>: turns an hwloc topology into the plain
// NodeTopology model. Everything hwloc-specific (filters, object walking, GPU/NIC
// classification from PCI class, vendor and OS devices) lives here.
#include "netplace/topology/node.hpp"

#include "netplace/core/error.hpp"
#include "netplace/topology/nvml.hpp"

#include <hwloc.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <map>
#include <memory>
#include <set>

#if HWLOC_API_VERSION < 0x00020000
#error "netplace needs hwloc >= 2.0 (NUMA nodes as memory children, I/O type filters)"
#endif

#if defined(__SANITIZE_ADDRESS__)
#include <dlfcn.h>
// hwloc's PCI plugin (hwloc_pci.so over libpciaccess) leaks about 1 KB inside pci_system_init on
// every host discovery. The plugin is dlclose'd before LeakSanitizer reports, leaving frames it
// cannot name, so sanitizer builds pin libpciaccess (below) and suppress leaks allocated in it.
extern "C" const char* __lsan_default_suppressions() { return "leak:libpciaccess.so\n"; }
#endif

namespace netplace::topology {
namespace {

// RAII over the topology handle: destroyed on every path, exceptions included.
class Topology {
  public:
    Topology() {
        if (hwloc_topology_init(&t_) != 0) throw Error("hwloc: cannot initialise a topology");
        // Keep every I/O object: PCI devices and OS devices name the GPUs and NICs, and the
        // bridges tell which devices sit behind the same PCIe switch.
        hwloc_topology_set_io_types_filter(t_, HWLOC_TYPE_FILTER_KEEP_ALL);
    }
    ~Topology() { hwloc_topology_destroy(t_); }
    Topology(const Topology&) = delete;
    Topology& operator=(const Topology&) = delete;
    hwloc_topology_t get() const { return t_; }

  private:
    hwloc_topology_t t_ = nullptr;
};

CpuList to_cpulist(hwloc_const_bitmap_t set) {
    CpuList out;
    if (!set) return out;
    const int weight = hwloc_bitmap_weight(set);
    if (weight < 0) return out;  // infinite set: not a real cpuset
    out.reserve(static_cast<size_t>(weight));
    int i = -1;
    while ((i = hwloc_bitmap_next(set, i)) != -1) out.push_back(static_cast<unsigned>(i));
    return out;
}

std::string bus_id(const hwloc_obj_t obj) {
    char buf[32];
    if (obj->type == HWLOC_OBJ_PCI_DEVICE ||
        (obj->type == HWLOC_OBJ_BRIDGE &&
         obj->attr->bridge.upstream_type == HWLOC_OBJ_BRIDGE_PCI)) {
        const auto& p = obj->attr->pcidev;
        std::snprintf(buf, sizeof buf, "%04x:%02x:%02x.%01x", static_cast<unsigned>(p.domain),
                      static_cast<unsigned>(p.bus), static_cast<unsigned>(p.dev),
                      static_cast<unsigned>(p.func));
        return buf;
    }
    return {};
}

std::string info(const hwloc_obj_t obj, const char* name) {
    const char* v = hwloc_obj_get_info_by_name(obj, name);
    return v ? v : "";
}

bool starts_with(const std::string& s, const char* prefix) { return s.rfind(prefix, 0) == 0; }

struct OsDev {
    std::string name;
    hwloc_obj_osdev_type_t type;
    std::string subtype;
    hwloc_obj_t obj;
};

std::vector<OsDev> os_devices_of(const hwloc_obj_t pci) {
    std::vector<OsDev> out;
    for (hwloc_obj_t c = pci->io_first_child; c; c = c->next_sibling) {
        if (c->type != HWLOC_OBJ_OS_DEVICE || !c->name) continue;
        out.push_back({c->name, c->attr->osdev.type, c->subtype ? c->subtype : "", c});
    }
    return out;
}

// DRM nodes (card0, renderD128, controlD64) exist for any display adapter, BMC VGAs included;
// only the compute runtimes' devices show that a GPU can run kernels.
bool is_compute_osdev(const OsDev& d) {
    if (d.type == HWLOC_OBJ_OSDEV_COPROC) return true;  // CUDA, OpenCL, LevelZero (and old NVML)
    if (d.type != HWLOC_OBJ_OSDEV_GPU) return false;
    return !(starts_with(d.name, "card") || starts_with(d.name, "renderD") ||
             starts_with(d.name, "controlD"));
}

constexpr unsigned short vendor_nvidia = 0x10de, vendor_amd = 0x1002, vendor_intel = 0x8086,
                         vendor_hpe_cray = 0x17db;

std::string vendor_name(unsigned short id) {
    switch (id) {
        case vendor_nvidia:
            return "nvidia";
        case vendor_amd:
            return "amd";
        case vendor_intel:
            return "intel";
        default:
            return "";
    }
}

// Vendor from the runtimes' device names when the PCI ids were not recorded (sysfs dumps).
std::string vendor_from_osdevs(const std::vector<OsDev>& devs) {
    for (const auto& d : devs) {
        if (starts_with(d.name, "cuda") || starts_with(d.name, "nvml") || d.subtype == "CUDA" ||
            d.subtype == "NVML")
            return "nvidia";
        if (starts_with(d.name, "rsmi") || d.subtype == "RSMI") return "amd";
        if (d.subtype == "LevelZero" || starts_with(d.name, "ze")) return "intel";
        std::string v = info(d.obj, "GPUVendor");
        std::transform(v.begin(), v.end(), v.begin(),
                       [](unsigned char ch) { return std::tolower(ch); });
        if (v.find("nvidia") != std::string::npos) return "nvidia";
        if (v.find("advanced micro devices") != std::string::npos ||
            v.find("amd") != std::string::npos)
            return "amd";
        if (v.find("intel") != std::string::npos) return "intel";
    }
    return "";
}

class Extractor {
  public:
    Extractor(hwloc_topology_t t, std::string source) : t_(t) { out_.source = std::move(source); }

    NodeTopology run() {
        out_.packages =
            static_cast<unsigned>(std::max(0, hwloc_get_nbobjs_by_type(t_, HWLOC_OBJ_PACKAGE)));
        out_.pus = static_cast<unsigned>(std::max(0, hwloc_get_nbobjs_by_type(t_, HWLOC_OBJ_PU)));
        numa();
        cores();
        distances();
        io();
        return std::move(out_);
    }

  private:
    std::optional<unsigned> package_of(hwloc_const_bitmap_t set) const {
        const int n = hwloc_get_nbobjs_by_type(t_, HWLOC_OBJ_PACKAGE);
        if (hwloc_bitmap_iszero(set)) return std::nullopt;
        for (int i = 0; i < n; ++i) {
            hwloc_obj_t p = hwloc_get_obj_by_type(t_, HWLOC_OBJ_PACKAGE, static_cast<unsigned>(i));
            if (hwloc_bitmap_isincluded(set, p->cpuset)) return p->logical_index;
        }
        return std::nullopt;
    }

    // The CPU-attached NUMA node whose PUs include the whole set, if one does.
    std::optional<unsigned> numa_of(hwloc_const_bitmap_t set) const {
        if (hwloc_bitmap_iszero(set)) return std::nullopt;
        for (const auto& [os, obj] : cpu_numa_)
            if (hwloc_bitmap_isincluded(set, obj->cpuset)) return os;
        return std::nullopt;
    }

    void numa() {
        std::vector<hwloc_obj_t> objs;
        for (hwloc_obj_t o = nullptr; (o = hwloc_get_next_obj_by_type(t_, HWLOC_OBJ_NUMANODE, o));)
            objs.push_back(o);
        std::sort(objs.begin(), objs.end(),
                  [](auto a, auto b) { return a->os_index < b->os_index; });
        // hwloc attaches a CPU-less node (HBM, GPU memory, CXL) next to the CPUs nearest to it,
        // so it inherits their cpuset. A PU belongs to exactly one Linux node, so among nodes
        // sharing one cpuset at most one owns those PUs: the one without a memory-only subtype
        // and the lowest OS index (firmware lists CPU-bearing domains first).
        std::map<std::string, hwloc_obj_t> owner;  // cpuset text -> CPU-attached node
        for (hwloc_obj_t o : objs) {
            const std::string sub = o->subtype ? o->subtype : "";
            const bool memory_subtype = !sub.empty() && sub != "DRAM";
            if (hwloc_bitmap_iszero(o->cpuset) || memory_subtype) continue;
            char* text = nullptr;
            hwloc_bitmap_asprintf(&text, o->cpuset);
            std::unique_ptr<char, decltype(&std::free)> guard(text, &std::free);
            owner.emplace(text ? text : "", o);  // keeps the lowest os_index (sorted above)
        }
        std::set<hwloc_obj_t> cpu_attached;
        for (const auto& [k, o] : owner) cpu_attached.insert(o);
        for (hwloc_obj_t o : objs) {
            NumaNode n;
            n.os_index = o->os_index;
            n.memory_bytes = o->attr->numanode.local_memory;
            n.cpu_attached = cpu_attached.count(o) > 0;
            n.locality = to_cpulist(o->cpuset);
            if (n.cpu_attached) {
                n.cpus = n.locality;
                cpu_numa_.emplace_back(o->os_index, o);
            }
            n.subtype = o->subtype ? o->subtype : "";
            n.package = package_of(o->cpuset);
            n.pci_bus_id = info(o, "PCIBusID");
            if (!n.pci_bus_id.empty() && n.subtype == "GPUMemory") gpu_memory_.insert(n.pci_bus_id);
            out_.numa_nodes.push_back(std::move(n));
        }
    }

    void cores() {
        const int ncores = hwloc_get_nbobjs_by_type(t_, HWLOC_OBJ_CORE);
        // Some platforms (and synthetic descriptions without core:) have no Core objects;
        // every PU then stands for a core so plans still get whole, disjoint CPUs.
        const hwloc_obj_type_t type = ncores > 0 ? HWLOC_OBJ_CORE : HWLOC_OBJ_PU;
        const int n = hwloc_get_nbobjs_by_type(t_, type);
        for (int i = 0; i < n; ++i) {
            hwloc_obj_t o = hwloc_get_obj_by_type(t_, type, static_cast<unsigned>(i));
            Core c;
            c.logical_index = o->logical_index;
            if (hwloc_obj_t p = hwloc_get_ancestor_obj_by_type(t_, HWLOC_OBJ_PACKAGE, o))
                c.package = p->logical_index;
            c.numa = numa_of(o->cpuset);
            c.pus = to_cpulist(o->cpuset);
            if (!c.pus.empty()) out_.cores.push_back(std::move(c));
        }
    }

    void distances() {
        const size_t n = out_.numa_nodes.size();
        if (n < 2) return;
        unsigned nr = 0;
        if (hwloc_distances_get_by_type(t_, HWLOC_OBJ_NUMANODE, &nr, nullptr, 0, 0) != 0 || nr == 0)
            return;
        std::vector<hwloc_distances_s*> all(nr, nullptr);
        if (hwloc_distances_get_by_type(t_, HWLOC_OBJ_NUMANODE, &nr, all.data(), 0, 0) != 0) return;
        all.resize(std::min<size_t>(nr, all.size()));
        // Prefer a latency matrix (what NUMA distances mean) covering every node.
        hwloc_distances_s* best = nullptr;
        for (auto* d : all) {
            if (!d || d->nbobjs != n) continue;
            if (!best || ((d->kind & HWLOC_DISTANCES_KIND_MEANS_LATENCY) &&
                          !(best->kind & HWLOC_DISTANCES_KIND_MEANS_LATENCY)))
                best = d;
        }
        if (best) {
            std::vector<int> pos(n, -1);
            bool ok = true;
            for (unsigned i = 0; i < n; ++i) {
                pos[i] = out_.numa_position(best->objs[i]->os_index);
                ok = ok && pos[i] >= 0;
            }
            if (ok) {
                out_.numa_distances.assign(n * n, 0);
                for (size_t i = 0; i < n; ++i)
                    for (size_t j = 0; j < n; ++j)
                        out_.numa_distances[static_cast<size_t>(pos[i]) * n +
                                            static_cast<size_t>(pos[j])] = best->values[i * n + j];
            }
        }
        for (auto* d : all)
            if (d) hwloc_distances_release(t_, d);
    }

    PciLocation location(hwloc_obj_t pci) const {
        PciLocation loc;
        loc.bus_id = bus_id(pci);
        for (hwloc_obj_t p = pci->parent; p && p->type == HWLOC_OBJ_BRIDGE; p = p->parent)
            if (p->attr->bridge.upstream_type == HWLOC_OBJ_BRIDGE_PCI)
                loc.bridges.push_back(bus_id(p));
        std::reverse(loc.bridges.begin(), loc.bridges.end());
        return loc;
    }

    void io() {
        for (hwloc_obj_t pci = nullptr; (pci = hwloc_get_next_pcidev(t_, pci));) {
            const auto devs = os_devices_of(pci);
            if (!gpu(pci, devs)) nic(pci, devs);
        }
        auto by_bus = [](const auto& a, const auto& b) { return a.pci.bus_id < b.pci.bus_id; };
        std::sort(out_.gpus.begin(), out_.gpus.end(), by_bus);
        std::sort(out_.nics.begin(), out_.nics.end(), by_bus);
    }

    hwloc_const_bitmap_t locality(hwloc_obj_t pci) const {
        hwloc_obj_t anc = hwloc_get_non_io_ancestor_obj(t_, pci);
        return anc ? anc->cpuset : hwloc_topology_get_topology_cpuset(t_);
    }

    // Compute GPUs: display (03xx) or processing-accelerator (1200) class from NVIDIA, AMD or
    // Intel. A plain VGA-class (0300) AMD/Intel device counts only with a compute runtime's
    // device, because server boards carry such chips for the console (ATI ES1000); ASPEED and
    // Matrox BMC VGAs never count. A GPU memory NUMA node naming the device also proves it.
    bool gpu(hwloc_obj_t pci, const std::vector<OsDev>& devs) {
        const auto& a = pci->attr->pcidev;
        const unsigned cls = a.class_id;
        const bool display = (cls >> 8) == 0x03, accel = cls == 0x1200;
        if (!display && !accel) return false;
        const std::string bus = bus_id(pci);
        const bool compute = std::any_of(devs.begin(), devs.end(), is_compute_osdev);
        std::string vendor = vendor_name(a.vendor_id);
        bool is_gpu = false;
        if (vendor == "nvidia") {
            is_gpu = true;
        } else if (vendor == "amd" || vendor == "intel") {
            is_gpu = accel || cls == 0x0302 || cls == 0x0380 || compute;
        } else if (a.vendor_id == 0) {  // ids missing from the dump: trust other evidence
            if (gpu_memory_.count(bus)) {
                vendor = "nvidia";  // hwloc makes GPUMemory nodes only for NVIDIA GPUs
                is_gpu = true;
            } else if (compute) {
                vendor = vendor_from_osdevs(devs);
                is_gpu = !vendor.empty();
            }
        }
        if (!is_gpu) return false;
        Gpu g;
        g.pci = location(pci);
        g.vendor = vendor;
        for (const auto& d : devs) {
            if (d.type == HWLOC_OBJ_OSDEV_GPU || d.type == HWLOC_OBJ_OSDEV_COPROC) {
                g.os_devices.push_back(d.name);
                if (g.model.empty()) g.model = info(d.obj, "GPUModel");
            }
        }
        if (g.model.empty()) g.model = info(pci, "PCIDevice");
        hwloc_const_bitmap_t loc = locality(pci);
        g.cpus = to_cpulist(loc);
        g.numa = numa_of(loc);
        g.package = package_of(loc);
        out_.gpus.push_back(std::move(g));
        return true;
    }

    void nic(hwloc_obj_t pci, const std::vector<OsDev>& devs) {
        const auto& a = pci->attr->pcidev;
        const unsigned cls = a.class_id;
        const bool network_class = (cls >> 8) == 0x02;
        bool has_net = false, has_ofed = false, ib_name = false, slingshot = false, hfi = false;
        for (const auto& d : devs) {
            if (d.type == HWLOC_OBJ_OSDEV_NETWORK) {
                has_net = true;
                ib_name = ib_name || starts_with(d.name, "ib");
                slingshot = slingshot || d.subtype == "Slingshot" || starts_with(d.name, "hsn");
            } else if (d.type == HWLOC_OBJ_OSDEV_OPENFABRICS) {
                has_ofed = true;
                hfi = hfi || starts_with(d.name, "hfi1");
            }
        }
        if (!network_class && !has_net && !has_ofed) return;
        Nic n;
        n.pci = location(pci);
        if (cls == 0x0207) {
            n.kind = NicKind::infiniband;
        } else if (cls == 0x0208 || hfi) {
            n.kind = NicKind::omnipath;  // Omni-Path HFIs register as "fabric" class
        } else if (slingshot || a.vendor_id == vendor_hpe_cray) {
            n.kind = NicKind::slingshot;
        } else if (has_ofed && ib_name) {
            n.kind = NicKind::infiniband;  // VPI cards (mlx4) in IB mode report class 0280
        } else if (cls == 0x0200 || has_net) {
            n.kind = NicKind::ethernet;
        } else {
            n.kind = NicKind::other;
        }
        n.fabric = n.kind == NicKind::infiniband || n.kind == NicKind::omnipath ||
                   n.kind == NicKind::slingshot;
        for (const auto& d : devs) {
            if (d.type == HWLOC_OBJ_OSDEV_NETWORK || d.type == HWLOC_OBJ_OSDEV_OPENFABRICS) {
                n.os_devices.push_back(d.name);
                if (d.type == HWLOC_OBJ_OSDEV_OPENFABRICS) n.rdma_devices.push_back(d.name);
            }
        }
        hwloc_const_bitmap_t loc = locality(pci);
        n.cpus = to_cpulist(loc);
        n.numa = numa_of(loc);
        n.package = package_of(loc);
        out_.nics.push_back(std::move(n));
    }

    hwloc_topology_t t_;
    NodeTopology out_;
    std::vector<std::pair<unsigned, hwloc_obj_t>> cpu_numa_;
    std::set<std::string> gpu_memory_;
};

NodeTopology extract(Topology& topo, const std::string& source, const std::string& what) {
    if (hwloc_topology_load(topo.get()) != 0)
        throw Error(what + ": hwloc could not load it (" + std::strerror(errno) + ")");
    if (hwloc_get_nbobjs_by_type(topo.get(), HWLOC_OBJ_PU) <= 0)
        throw Error(what + ": topology has no processing units");
    return Extractor(topo.get(), source).run();
}

void pin_pci_library() {
#if defined(__SANITIZE_ADDRESS__)
    static void* handle = dlopen("libpciaccess.so.0", RTLD_LAZY | RTLD_NODELETE);
    (void)handle;
#endif
}

}  // namespace

NodeTopology load_host() {
    pin_pci_library();
    Topology topo;
    NodeTopology out = extract(topo, "this host", "host topology");
    // Only the live host: an XML export describes another machine, whose NVML is not ours.
    if (auto note = add_nvml_inventory(out); !note.empty()) out.notes.push_back(std::move(note));
    return out;
}

std::string host_xml() {
    pin_pci_library();
    Topology topo;
    if (hwloc_topology_load(topo.get()) != 0)
        throw Error(std::string("host topology: hwloc could not load it (") + std::strerror(errno) +
                    ")");
    char* buf = nullptr;
    int len = 0;
    if (hwloc_topology_export_xmlbuffer(topo.get(), &buf, &len, 0) != 0 || !buf)
        throw Error("host topology: hwloc could not export it as XML");
    const std::string xml(buf, len > 0 ? static_cast<size_t>(len - 1) : 0);  // len counts the NUL
    hwloc_free_xmlbuffer(topo.get(), buf);
    return xml;
}

NodeTopology load_xml(const std::string& path) {
    // Check readability ourselves: hwloc's own message for a missing file is vague.
    {
        std::ifstream in(path);
        if (!in)
            throw Error("hwloc XML '" + path + "': cannot read it (" + std::strerror(errno) + ")");
        std::string head(64, '\0');
        in.read(head.data(), static_cast<std::streamsize>(head.size()));
        head.resize(static_cast<size_t>(in.gcount()));
        if (head.find('<') == std::string::npos)
            throw Error("hwloc XML '" + path +
                        "': not an XML file (export one with lstopo --of xml)");
    }
    Topology topo;
    const std::string invalid =
        "hwloc XML '" + path +
        "': not a valid hwloc topology export (check it with lstopo --input)";
    if (hwloc_topology_set_xml(topo.get(), path.c_str()) != 0) throw Error(invalid);
    try {
        return extract(topo, path, "hwloc XML '" + path + "'");
    } catch (const Error&) {
        throw Error(invalid);
    }
}

NodeTopology load_synthetic(const std::string& description) {
    Topology topo;
    const std::string what = "synthetic topology '" + description + "'";
    if (description.empty() || hwloc_topology_set_synthetic(topo.get(), description.c_str()) != 0)
        throw Error(what + ": invalid description (expected e.g. \"pack:2 numa:2 core:4 pu:2\")");
    return extract(topo, "synthetic \"" + description + "\"", what);
}

}  // namespace netplace::topology
