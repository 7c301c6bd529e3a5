// NVML through dlopen. The few types and prototypes used are declared here, matching nvml.h's
// ABI (nvmlPciInfo_t, nvmlMemory_t, the _v2/_v3 entry points), so no NVIDIA header or library is
// needed to build; a machine without the driver simply has no libnvidia-ml.so.1.
#include "netplace/topology/nvml.hpp"

#include <dlfcn.h>

#include <cstdio>
#include <cstdlib>
#include <exception>
#include <map>
#include <memory>

namespace netplace::topology {
namespace {

// --- nvml.h, the subset used (layouts and values as in NVIDIA's header) ------------------------
using nvmlReturn_t = int;
constexpr nvmlReturn_t NVML_SUCCESS = 0;
struct nvmlDevice_st;
using nvmlDevice_t = nvmlDevice_st*;
constexpr unsigned NVML_DEVICE_NAME_V2_BUFFER_SIZE = 96;
constexpr unsigned NVML_DEVICE_UUID_V2_BUFFER_SIZE = 96;
constexpr unsigned NVML_NVLINK_MAX_LINKS = 18;
constexpr unsigned NVML_FEATURE_ENABLED = 1;  // nvmlEnableState_t
constexpr unsigned NVML_DEVICE_MIG_ENABLE = 1;
struct nvmlPciInfo_t {
    char busIdLegacy[16];
    unsigned int domain;
    unsigned int bus;
    unsigned int device;
    unsigned int pciDeviceId;
    unsigned int pciSubSystemId;
    char busId[32];  // "00000000:34:00.0"
};
struct nvmlMemory_t {
    unsigned long long total;
    unsigned long long free;
    unsigned long long used;
};

// RAII over the dlopen handle; nvmlShutdown is called if nvmlInit succeeded.
class Nvml {
  public:
    explicit Nvml(const std::string& path) : handle_(dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL)) {}
    ~Nvml() {
        if (initialised_) {
            if (auto shutdown = sym<nvmlReturn_t (*)()>("nvmlShutdown")) shutdown();
        }
        if (handle_) dlclose(handle_);
    }
    Nvml(const Nvml&) = delete;
    Nvml& operator=(const Nvml&) = delete;

    bool loaded() const { return handle_ != nullptr; }
    template <typename F>
    F sym(const char* name) const {
        return handle_ ? reinterpret_cast<F>(dlsym(handle_, name)) : nullptr;
    }
    std::string error(nvmlReturn_t rc) const {
        if (auto str = sym<const char* (*)(nvmlReturn_t)>("nvmlErrorString"))
            if (const char* s = str(rc)) return s;
        return "NVML error " + std::to_string(rc);
    }
    void set_initialised() { initialised_ = true; }

  private:
    void* handle_;
    bool initialised_ = false;
};

// NVML's "00000000:34:00.0" (upper-case hex, 8-digit domain) -> hwloc's "0000:34:00.0".
std::string normalise_bus_id(const char* text) {
    unsigned domain = 0, bus = 0, dev = 0, fn = 0;
    if (std::sscanf(text, "%x:%x:%x.%x", &domain, &bus, &dev, &fn) != 4) return {};
    char buf[32];
    std::snprintf(buf, sizeof buf, "%04x:%02x:%02x.%x", domain, bus, dev, fn);
    return buf;
}

std::string inventory(NodeTopology& topo, const std::string& path) {
    Nvml nvml(path);
    if (!nvml.loaded()) {
        const char* why = dlerror();
        return "NVML not loaded (" + std::string(why ? why : path) +
               "): NVIDIA GPUs shown from PCI only (no model, memory, UUID, NVLink)";
    }
    auto init = nvml.sym<nvmlReturn_t (*)()>("nvmlInit_v2");
    auto count = nvml.sym<nvmlReturn_t (*)(unsigned*)>("nvmlDeviceGetCount_v2");
    auto by_index =
        nvml.sym<nvmlReturn_t (*)(unsigned, nvmlDevice_t*)>("nvmlDeviceGetHandleByIndex_v2");
    auto pci_info =
        nvml.sym<nvmlReturn_t (*)(nvmlDevice_t, nvmlPciInfo_t*)>("nvmlDeviceGetPciInfo_v3");
    if (!init || !count || !by_index || !pci_info)
        return "NVML at " + path +
               " lacks nvmlInit_v2/DeviceGetCount_v2/GetHandleByIndex_v2/"
               "GetPciInfo_v3 (driver too old?): NVIDIA GPUs shown from PCI only";
    auto get_name = nvml.sym<nvmlReturn_t (*)(nvmlDevice_t, char*, unsigned)>("nvmlDeviceGetName");
    auto get_uuid = nvml.sym<nvmlReturn_t (*)(nvmlDevice_t, char*, unsigned)>("nvmlDeviceGetUUID");
    auto get_memory =
        nvml.sym<nvmlReturn_t (*)(nvmlDevice_t, nvmlMemory_t*)>("nvmlDeviceGetMemoryInfo");
    auto get_minor =
        nvml.sym<nvmlReturn_t (*)(nvmlDevice_t, unsigned*)>("nvmlDeviceGetMinorNumber");
    auto link_state =
        nvml.sym<nvmlReturn_t (*)(nvmlDevice_t, unsigned, unsigned*)>("nvmlDeviceGetNvLinkState");
    auto link_remote = nvml.sym<nvmlReturn_t (*)(nvmlDevice_t, unsigned, nvmlPciInfo_t*)>(
        "nvmlDeviceGetNvLinkRemotePciInfo_v2");
    auto mig_mode =
        nvml.sym<nvmlReturn_t (*)(nvmlDevice_t, unsigned*, unsigned*)>("nvmlDeviceGetMigMode");
    auto mig_max =
        nvml.sym<nvmlReturn_t (*)(nvmlDevice_t, unsigned*)>("nvmlDeviceGetMaxMigDeviceCount");
    auto mig_handle = nvml.sym<nvmlReturn_t (*)(nvmlDevice_t, unsigned, nvmlDevice_t*)>(
        "nvmlDeviceGetMigDeviceHandleByIndex");

    if (const nvmlReturn_t rc = init(); rc != NVML_SUCCESS)
        return "NVML did not initialise (" + nvml.error(rc) +
               "): NVIDIA GPUs shown from PCI only (no model, memory, UUID, NVLink)";
    nvml.set_initialised();
    unsigned n = 0;
    if (const nvmlReturn_t rc = count(&n); rc != NVML_SUCCESS)
        return "NVML could not count GPUs (" + nvml.error(rc) +
               "): NVIDIA GPUs shown from PCI only";

    std::map<std::string, Gpu*> by_bus;
    for (auto& g : topo.gpus)
        if (g.vendor == "nvidia") by_bus[g.pci.bus_id] = &g;
    unsigned matched = 0;
    for (unsigned i = 0; i < n; ++i) {
        nvmlDevice_t dev = nullptr;
        nvmlPciInfo_t pci{};
        if (by_index(i, &dev) != NVML_SUCCESS || pci_info(dev, &pci) != NVML_SUCCESS) continue;
        pci.busId[sizeof pci.busId - 1] = '\0';
        const auto it = by_bus.find(normalise_bus_id(pci.busId));
        if (it == by_bus.end()) continue;  // hidden from hwloc (cgroup, restricted export)
        Gpu& g = *it->second;
        ++matched;
        char buf[NVML_DEVICE_NAME_V2_BUFFER_SIZE] = {};
        if (get_name && get_name(dev, buf, sizeof buf) == NVML_SUCCESS) g.model = buf;
        char uuid[NVML_DEVICE_UUID_V2_BUFFER_SIZE] = {};
        if (get_uuid && get_uuid(dev, uuid, sizeof uuid) == NVML_SUCCESS) g.uuid = uuid;
        nvmlMemory_t mem{};
        if (get_memory && get_memory(dev, &mem) == NVML_SUCCESS) g.memory_bytes = mem.total;
        unsigned minor = 0;
        if (get_minor && get_minor(dev, &minor) == NVML_SUCCESS) {
            g.minor = minor;
            const std::string name = "nvidia" + std::to_string(minor);
            bool listed = false;
            for (const auto& d : g.os_devices) listed = listed || d == name;
            if (!listed) g.os_devices.push_back(name);
        }
        if (link_state && link_remote) {
            std::map<std::string, unsigned> peers;
            for (unsigned l = 0; l < NVML_NVLINK_MAX_LINKS; ++l) {
                unsigned active = 0;
                if (link_state(dev, l, &active) != NVML_SUCCESS) continue;  // no such link
                if (active != NVML_FEATURE_ENABLED) continue;
                nvmlPciInfo_t remote{};
                if (link_remote(dev, l, &remote) != NVML_SUCCESS) continue;
                remote.busId[sizeof remote.busId - 1] = '\0';
                const std::string bus = normalise_bus_id(remote.busId);
                if (!bus.empty()) ++peers[bus];
            }
            g.nvlink.clear();
            for (const auto& [bus, links] : peers) g.nvlink.push_back({bus, links});
        }
        unsigned current = 0, pending = 0, max = 0;
        if (mig_mode && mig_max && mig_handle &&
            mig_mode(dev, &current, &pending) == NVML_SUCCESS &&
            current == NVML_DEVICE_MIG_ENABLE && mig_max(dev, &max) == NVML_SUCCESS) {
            for (unsigned m = 0; m < max; ++m) {
                nvmlDevice_t mig = nullptr;
                if (mig_handle(dev, m, &mig) != NVML_SUCCESS) continue;  // slot not populated
                MigInstance inst;
                char mu[NVML_DEVICE_UUID_V2_BUFFER_SIZE] = {};
                if (get_uuid && get_uuid(mig, mu, sizeof mu) == NVML_SUCCESS) inst.uuid = mu;
                nvmlMemory_t mm{};
                if (get_memory && get_memory(mig, &mm) == NVML_SUCCESS)
                    inst.memory_bytes = mm.total;
                g.mig.push_back(std::move(inst));
            }
        }
    }
    if (matched < by_bus.size())
        return "NVML knows " + std::to_string(matched) + " of the " +
               std::to_string(by_bus.size()) +
               " NVIDIA GPUs hwloc found (by PCI bus id); the others are shown from PCI only";
    return {};
}

}  // namespace

std::string add_nvml_inventory(NodeTopology& topo, const std::string& library) {
    bool any = false;
    for (const auto& g : topo.gpus) any = any || g.vendor == "nvidia";
    if (!any) return {};
    std::string path = library;
    if (path.empty()) {
        const char* env = std::getenv("NETPLACE_NVML_LIBRARY");
        path = env && *env ? env : "libnvidia-ml.so.1";
    }
    try {
        return inventory(topo, path);
    } catch (const std::exception& e) {
        return std::string("NVML inventory failed (") + e.what() + "): GPUs shown from PCI only";
    }
}

}  // namespace netplace::topology
