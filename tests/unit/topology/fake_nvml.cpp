// A tiny stand-in for libnvidia-ml.so.1, built by the test suite and loaded by path: CI has no
// NVIDIA GPU, so the NVML mapping (bus-id matching, minors, NVLink peers, MIG) is exercised
// against this. It exports the NVML entry points netplace uses, with nvml.h's ABI, describing
// four GPUs; FAKE_NVML_INIT_FAIL=1 makes nvmlInit_v2 fail like a driver/library mismatch.
#include <cstdio>
#include <cstdlib>
#include <cstring>

extern "C" {

typedef int nvmlReturn_t;
struct nvmlDevice_st {
    int index;  // GPU 0..3, or 100 + n for MIG instance n of GPU 3
};
typedef nvmlDevice_st* nvmlDevice_t;
struct nvmlPciInfo_t {
    char busIdLegacy[16];
    unsigned int domain, bus, device, pciDeviceId, pciSubSystemId;
    char busId[32];
};
struct nvmlMemory_t {
    unsigned long long total, free, used;
};

static nvmlDevice_st devices[4] = {{0}, {1}, {2}, {3}};
static nvmlDevice_st migs[2] = {{100}, {101}};
// NVML's own spelling: eight-digit domain, upper-case hex. GPU 2 sits at a bus hwloc does not
// list (a GPU hidden from the job's cgroup).
static const char* bus[4] = {"00000000:03:00.0", "00000000:44:00.0", "00000000:99:00.0",
                             "00000000:C4:00.0"};
static const unsigned minors[4] = {3, 2, 1, 0};
// NVLinks: 03 <-> C4 twice, 44 <-> 99 once; link 2 of GPU 0 exists but is down.
struct Link {
    int active;
    const char* remote;
};
static const Link links[4][3] = {
    {{1, "00000000:C4:00.0"}, {1, "00000000:C4:00.0"}, {0, "00000000:44:00.0"}},
    {{1, "00000000:99:00.0"}, {0, nullptr}, {0, nullptr}},
    {{1, "00000000:44:00.0"}, {0, nullptr}, {0, nullptr}},
    {{1, "00000000:03:00.0"}, {1, "00000000:03:00.0"}, {0, nullptr}},
};
static int initialised = 0;

static int gpu(nvmlDevice_t d) { return d && d->index >= 0 && d->index < 4 ? d->index : -1; }

nvmlReturn_t nvmlInit_v2(void) {
    const char* f = std::getenv("FAKE_NVML_INIT_FAIL");
    if (f && *f == '1') return 18;  // NVML_ERROR_LIB_RM_VERSION_MISMATCH
    initialised = 1;
    return 0;
}
nvmlReturn_t nvmlShutdown(void) {
    initialised = 0;
    return 0;
}
const char* nvmlErrorString(nvmlReturn_t rc) {
    return rc == 18 ? "RM has detected an NVML/RM version mismatch." : "fake error";
}
nvmlReturn_t nvmlDeviceGetCount_v2(unsigned int* n) {
    if (!initialised) return 1;
    *n = 4;
    return 0;
}
nvmlReturn_t nvmlDeviceGetHandleByIndex_v2(unsigned int i, nvmlDevice_t* d) {
    if (!initialised) return 1;
    if (i >= 4) return 2;
    *d = &devices[i];
    return 0;
}
nvmlReturn_t nvmlDeviceGetPciInfo_v3(nvmlDevice_t d, nvmlPciInfo_t* p) {
    const int g = gpu(d);
    if (g < 0) return 2;
    std::memset(p, 0, sizeof *p);
    std::snprintf(p->busId, sizeof p->busId, "%s", bus[g]);
    return 0;
}
nvmlReturn_t nvmlDeviceGetName(nvmlDevice_t d, char* name, unsigned int len) {
    if (gpu(d) < 0) return 2;
    std::snprintf(name, len, "%s", "NVIDIA A100-SXM4-40GB");
    return 0;
}
nvmlReturn_t nvmlDeviceGetUUID(nvmlDevice_t d, char* uuid, unsigned int len) {
    if (d && d->index >= 100) {
        std::snprintf(uuid, len, "MIG-0000000%d-aaaa-bbbb-cccc-dddddddddddd", d->index - 100);
        return 0;
    }
    const int g = gpu(d);
    if (g < 0) return 2;
    std::snprintf(uuid, len, "GPU-%d1111111-2222-3333-4444-555555555555", g);
    return 0;
}
nvmlReturn_t nvmlDeviceGetMemoryInfo(nvmlDevice_t d, nvmlMemory_t* m) {
    if (d && d->index >= 100) {
        m->total = 10ULL << 30;
        return 0;
    }
    if (gpu(d) < 0) return 2;
    m->total = 42949672960ULL;  // 40 GiB
    m->free = m->total / 2;
    m->used = m->total - m->free;
    return 0;
}
nvmlReturn_t nvmlDeviceGetMinorNumber(nvmlDevice_t d, unsigned int* minor) {
    const int g = gpu(d);
    if (g < 0) return 2;
    *minor = minors[g];
    return 0;
}
nvmlReturn_t nvmlDeviceGetNvLinkState(nvmlDevice_t d, unsigned int link, unsigned int* active) {
    const int g = gpu(d);
    if (g < 0 || link >= 3) return 2;  // NVML_ERROR_INVALID_ARGUMENT: no such link
    *active = static_cast<unsigned>(links[g][link].active);
    return 0;
}
nvmlReturn_t nvmlDeviceGetNvLinkRemotePciInfo_v2(nvmlDevice_t d, unsigned int link,
                                                 nvmlPciInfo_t* p) {
    const int g = gpu(d);
    if (g < 0 || link >= 3 || !links[g][link].remote) return 2;
    std::memset(p, 0, sizeof *p);
    std::snprintf(p->busId, sizeof p->busId, "%s", links[g][link].remote);
    return 0;
}
nvmlReturn_t nvmlDeviceGetMigMode(nvmlDevice_t d, unsigned int* current, unsigned int* pending) {
    const int g = gpu(d);
    if (g < 0) return 2;
    *current = *pending = g == 3 ? 1 : 0;
    return 0;
}
nvmlReturn_t nvmlDeviceGetMaxMigDeviceCount(nvmlDevice_t d, unsigned int* count) {
    if (gpu(d) < 0) return 2;
    *count = 7;
    return 0;
}
nvmlReturn_t nvmlDeviceGetMigDeviceHandleByIndex(nvmlDevice_t d, unsigned int i,
                                                 nvmlDevice_t* mig) {
    if (gpu(d) != 3) return 3;
    if (i >= 2) return 6;  // NVML_ERROR_NOT_FOUND: slot empty
    *mig = &migs[i];
    return 0;
}
}
