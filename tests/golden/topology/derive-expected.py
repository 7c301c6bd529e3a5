#!/usr/bin/env python3
"""Derive golden expectations for `netplace topology` from hwloc's own tools, not from netplace.

For each hwloc XML it reads `lstopo-no-graphics --input FILE -v -p -c --filter io:all
--no-caches` (the object tree with physical indexes, cpusets, PCI ids/classes and OS devices)
and `hwloc-info --input FILE -p NUMANode:all` (exact NUMA memory in bytes), and applies the
classification rules of docs/topology.md (written from issue 2) to that text:

  expected/<name>.show.json       the contract keys of `netplace topology show --json`
  expected/<name>.plan-<T>x1.json  `netplace topology plan --tasks T --gpus-per-task 1 --json`
                                   for GPU nodes (T = number of GPUs, or fewer where cores are short)
  expected/<name>.plan-<T>x0.json  CPU-only plan for the other nodes, T = CPU NUMA nodes

This is a maintainer's tool (needs python3 + hwloc-nox); the test suite only compares files.
Every generated file was then read against lstopo by hand (docs/topology.md lists them).

usage: derive-expected.py XML_DIR OUT_DIR
"""
import json
import os
import re
import subprocess
import sys

LINE = re.compile(r'^(?P<indent> *)(?P<type>[A-Za-z][A-Za-z0-9-]*)(?:\((?P<sub>[^)]*)\))?'
                  r'(?: [PL]#(?P<idx>\d+))?(?: \((?P<attrs>.*?)\))?(?: "(?P<name>[^"]*)")?'
                  r'(?: cpuset=(?P<cpuset>\S+))?$')
ATTR = re.compile(r'(\w+)=("(?:[^"]*)"|\S*)')


def bitmap(text):
    """hwloc bitmap text (0xffffffff,,0x000000ff; most significant 32-bit word first) -> set."""
    if text is None:
        return None
    words = text.split(',')
    out = set()
    for pos, w in enumerate(reversed(words)):
        v = int(w, 16) if w else 0
        for b in range(32):
            if v >> b & 1:
                out.add(pos * 32 + b)
    return out


def cpulist(s):
    s = sorted(s)
    parts, i = [], 0
    while i < len(s):
        j = i
        while j + 1 < len(s) and s[j + 1] == s[j] + 1:
            j += 1
        parts.append(str(s[i]) if i == j else f'{s[i]}-{s[j]}')
        i = j + 1
    return ','.join(parts)


class Obj:
    def __init__(self, m, parent):
        self.type = m['type']
        self.sub = m['sub'] or ''
        self.idx = int(m['idx']) if m['idx'] else None
        self.attrs = {k: v.strip('"') for k, v in ATTR.findall(m['attrs'] or '')}
        self.name = m['name']
        self.cpuset = bitmap(m['cpuset'])
        self.parent = parent
        self.children = []


def parse(xml):
    out = subprocess.run(['lstopo-no-graphics', '--input', xml, '-v', '-p', '-c', '--filter', 'io:all',
                          '--no-caches'], capture_output=True, text=True, check=True).stdout
    root, stack, matrices = None, [], []
    lines = out.splitlines()
    i = 0
    while i < len(lines):
        line = lines[i]
        if line.startswith('Relative ') and 'matrix' in line:
            hdr = re.match(r'Relative (\w+) matrix \((?:name \S+ )?kind \d+\) between (\d+) (\S+) ', line)
            what, n, objtype = hdr.group(1), int(hdr.group(2)), hdr.group(3)
            if objtype == 'NUMANodes' and 'by physical' in line:
                cols = [int(x) for x in lines[i + 1].split()[1:]]
                rows = {}
                for r in range(n):
                    vals = lines[i + 2 + r].split()
                    rows[int(vals[0])] = [int(x) for x in vals[1:]]
                matrices.append((what, objtype, cols, rows))
            i += 2 + n
            continue
        m = LINE.match(line)
        i += 1
        if not m or line.startswith(('depth', ' depth', 'Special', 'CPU kind', 'assuming')) or \
                m['type'] in ('depth', 'Special', 'CPU', 'Topology'):
            continue
        depth = len(m['indent']) // 2
        while len(stack) > depth:
            stack.pop()
        o = Obj(m, stack[-1] if stack else None)
        if o.parent:
            o.parent.children.append(o)
        else:
            root = o
        stack.append(o)
    return root, matrices


def walk(o):
    yield o
    for c in o.children:
        yield from walk(c)


def numa_info(xml, count):
    # One query per logical index: "NUMANode:all" trips over some converted exports.
    res = {}
    for i in range(count):
        out = subprocess.run(['hwloc-info', '--input', xml, f'NUMANode:{i}'], capture_output=True, text=True,
                             check=True).stdout
        os_index = mem = cpuset = None
        for line in out.splitlines():
            if line.strip().startswith('os index ='):
                os_index = int(line.split('=')[1])
            if line.strip().startswith('local memory ='):
                mem = int(line.split('=')[1])
            if line.startswith(' cpuset ='):
                cpuset = bitmap(line.split('=')[1].strip())
        res[os_index] = (mem, cpuset)
    return res


MEM_SUBTYPES_OK = ('', 'DRAM')
COMPUTE_PREFIX_DRM = ('card', 'renderD', 'controlD')


def derive(xml):
    root, matrices = parse(xml)
    objs = list(walk(root))
    by = lambda t: [o for o in objs if o.type == t]
    packages = by('Package')
    pus = by('PU')
    cores = by('Core') or pus
    numas = sorted(by('NUMANode'), key=lambda o: o.idx)
    # lstopo -c prints a memory child's cpuset as its parent's (Kunpeng: two NUMA nodes under one
    # package both show 0-63); hwloc-info gives the node's own cpuset (0-31, 32-63).
    mem = numa_info(xml, len(numas))
    for n in numas:
        n.cpuset = mem[n.idx][1]
    # CPU-attached: non-empty cpuset, no memory-only subtype, lowest os index per identical cpuset.
    owners = {}
    for n in numas:
        if n.cpuset and n.sub in MEM_SUBTYPES_OK:
            owners.setdefault(frozenset(n.cpuset), n)
    cpu_numa = set(id(n) for n in owners.values())

    def numa_of(s):
        if not s:
            return None
        for n in numas:
            if id(n) in cpu_numa and s <= n.cpuset:
                return n.idx
        return None

    def package_of(s):
        if not s:
            return None
        for logical, p in enumerate(packages):
            if s <= p.cpuset:
                return logical
        return None

    def locality(o):
        p = o.parent
        while p is not None and p.cpuset is None:
            p = p.parent
        return p.cpuset if p is not None else set()

    def bridges(o):
        path, p = [], o.parent
        while p is not None and p.type in ('PCIBridge', 'HostBridge'):
            if p.type == 'PCIBridge':
                path.append(p.attrs['busid'])
            p = p.parent
        return list(reversed(path))

    gpu_mem = {n.attrs.get('PCIBusID') for n in numas if n.sub == 'GPUMemory'}
    gpus, nics = [], []
    for o in objs:
        if o.type != 'PCI':
            continue
        bus = o.attrs['busid']
        if len(bus) == 7:  # lstopo drops the 0000 domain when all devices are in it
            bus = '0000:' + bus
        vendor_id, _ = o.attrs['id'].split(':')
        cls = int(o.attrs['class'][:4], 16)
        osdevs = [c for c in o.children if c.name is not None]
        gpu_osdevs = [c for c in osdevs if c.type in ('GPU', 'Co-Processor', 'CoProc')]
        compute = any(c.type in ('Co-Processor', 'CoProc') or not c.name.startswith(COMPUTE_PREFIX_DRM)
                      for c in gpu_osdevs)
        vendor = {'10de': 'nvidia', '1002': 'amd', '8086': 'intel'}.get(vendor_id)
        is_gpu = False
        if cls >> 8 == 0x03 or cls == 0x1200:
            if vendor == 'nvidia':
                is_gpu = True
            elif vendor in ('amd', 'intel'):
                is_gpu = cls in (0x0302, 0x0380, 0x1200) or compute
            elif vendor_id == '0000' and bus in gpu_mem:
                vendor, is_gpu = 'nvidia', True
        loc = locality(o)
        if is_gpu:
            model = next((c.attrs['GPUModel'] for c in gpu_osdevs if c.attrs.get('GPUModel')), '') \
                or o.attrs.get('PCIDevice', '')
            gpus.append({'pci': bus, 'vendor': vendor, 'model': model,
                         'os_devices': [c.name for c in gpu_osdevs], 'numa': numa_of(loc),
                         'package': package_of(loc), 'cpuset': cpulist(loc), '_bridges': bridges(o),
                         '_cpus': loc})
            continue
        net = [c for c in osdevs if c.type == 'Network']
        ofed = [c for c in osdevs if c.type == 'OpenFabrics']
        if cls >> 8 != 0x02 and not net and not ofed:
            continue
        if cls == 0x0207:
            kind = 'infiniband'
        elif cls == 0x0208 or any(c.name.startswith('hfi1') for c in ofed):
            kind = 'omnipath'
        elif any(c.sub == 'Slingshot' or c.name.startswith('hsn') for c in net) or vendor_id == '17db':
            kind = 'slingshot'
        elif ofed and any(c.name.startswith('ib') for c in net):
            kind = 'infiniband'
        elif cls == 0x0200 or net:
            kind = 'ethernet'
        else:
            kind = 'other'
        nics.append({'pci': bus, 'kind': kind, 'fabric': kind in ('infiniband', 'omnipath', 'slingshot'),
                     'os_devices': [c.name for c in osdevs if c.type in ('Network', 'OpenFabrics')],
                     'numa': numa_of(loc), 'package': package_of(loc), 'cpuset': cpulist(loc),
                     '_bridges': bridges(o), '_rdma': [c.name for c in ofed]})
    gpus.sort(key=lambda g: g['pci'])
    nics.sort(key=lambda n: n['pci'])

    numa_list = []
    for n in numas:
        e = {'os_index': n.idx, 'memory_bytes': mem[n.idx][0], 'cpu_attached': id(n) in cpu_numa,
             'cpus': cpulist(n.cpuset) if id(n) in cpu_numa else '', 'package': package_of(n.cpuset)}
        if n.sub:
            e['subtype'] = n.sub
        if id(n) not in cpu_numa:
            e['near_cpus'] = cpulist(n.cpuset or set())
        if n.attrs.get('PCIBusID'):
            e['pci'] = n.attrs['PCIBusID']
        numa_list.append(e)
    dist = None
    order = [n.idx for n in numas]
    cands = [m for m in matrices if m[1] == 'NUMANodes' and len(m[2]) == len(numas)]
    cands.sort(key=lambda m: m[0] != 'latency')
    if cands:
        _, _, cols, rows = cands[0]
        dist = [[rows[a][cols.index(b)] for b in order] for a in order]

    show = {'packages': len(packages), 'numa_nodes': len(cpu_numa), 'memory_numa_nodes': len(numas) - len(cpu_numa),
            'cores': len(cores), 'pus': len(pus), 'numa': numa_list, 'numa_distances': dist,
            'gpus': [{k: v for k, v in g.items() if not k.startswith('_')} for g in gpus],
            'nics': [{k: v for k, v in n.items() if not k.startswith('_')} for n in nics]}
    core_info = []
    for c in cores:
        core_info.append({'pus': c.cpuset, 'numa': numa_of(c.cpuset)})
    return show, gpus, nics, core_info, dist, order


def ceil_div(a, b):
    return (a + b - 1) // b


def plan(gpus, nics, cores, dist, order, tasks):
    """Issue 2's rules for T tasks x 1 GPU, T <= #GPUs: rank r gets GPU ceil(r*G/T) (spread),
    the cores inside its GPU's locality, shared evenly (contiguous) between ranks whose GPUs have
    the same locality; the nearest named fabric NIC (PCIe switch, NUMA, package, NUMA distance;
    equally near ones shared out by use, then PCI order)."""
    G = len(gpus)
    chosen = [ceil_div(r * G, tasks) for r in range(tasks)]
    domains = {}
    for r, g in enumerate(chosen):
        key = frozenset(i for i, c in enumerate(cores) if c['pus'] <= gpus[g]['_cpus']) or \
            frozenset(range(len(cores)))
        domains.setdefault(key, []).append(r)
    taken, rank_cores = set(), {}
    for key in sorted(domains, key=len):
        own = sorted(i for i in key if i not in taken)
        taken |= set(own)
        ranks = domains[key]
        assert len(own) >= len(ranks), 'this simple derivation does not borrow cores'
        for j, r in enumerate(ranks):
            rank_cores[r] = own[ceil_div(j * len(own), len(ranks)):ceil_div((j + 1) * len(own), len(ranks))]
    cands = [i for i, n in enumerate(nics) if n['os_devices']]
    if any(nics[i]['fabric'] for i in cands):
        cands = [i for i in cands if nics[i]['fabric']]
    load = [0] * len(nics)

    def nearness(n, g):
        shared = 0
        while shared < min(len(n['_bridges']), len(g['_bridges'])) and n['_bridges'][shared] == g['_bridges'][shared]:
            shared += 1
        if shared:
            return (0, -shared)
        if g['numa'] is not None and g['numa'] == n['numa']:
            return (1, 0)
        if g['package'] is not None and g['package'] == n['package']:
            return (2, 0)
        if dist and g['numa'] is not None and n['numa'] is not None:
            return (3, dist[order.index(g['numa'])][order.index(n['numa'])])
        return (4, 0)

    out = []
    for r in range(tasks):
        g = gpus[chosen[r]]
        pus = set()
        count = {}
        for i in rank_cores[r]:
            pus |= cores[i]['pus']
            if cores[i]['numa'] is not None:
                count[cores[i]['numa']] = count.get(cores[i]['numa'], 0) + 1
        numa = min(count, key=lambda k: (-count[k], k)) if count else None
        names = []
        if cands:
            best = min(cands, key=lambda i: (nearness(nics[i], g), load[i], i))
            load[best] += 1
            names = nics[best]['_rdma'] or nics[best]['os_devices']
        out.append({'rank': r, 'cpus': cpulist(pus), 'gpus': [g['pci']], 'gpu_indices': [chosen[r]],
                    'nics': names, 'numa': numa})
    return {'tasks': out}


def plan_cpu(show, nics, cores, dist, order, tasks):
    """Issue 2's rules for CPU-only ranks: contiguous blocks per CPU NUMA node in proportion to its
    cores (node i gets ranks [ceil(S_i*T/C), ceil(S_(i+1)*T/C)) with S_i the cores before it), the
    node's cores cut into contiguous runs; nearest named fabric NIC from the rank's NUMA node."""
    numa_pkg = {n['os_index']: n['package'] for n in show['numa']}
    parts = {}
    for i, c in enumerate(cores):
        parts.setdefault(c['numa'], []).append(i)
    keys = sorted(k for k in parts if k is not None) + ([None] if None in parts else [])
    total, before, rank, out_cores, out_numa = len(cores), 0, 0, [], []
    for k in keys:
        own = parts[k]
        b, e = ceil_div(before * tasks, total), ceil_div((before + len(own)) * tasks, total)
        before += len(own)
        for j in range(e - b):
            out_cores.append(own[ceil_div(j * len(own), e - b):ceil_div((j + 1) * len(own), e - b)])
            out_numa.append(k)
    cands = [i for i, n in enumerate(nics) if n['os_devices']]
    if any(nics[i]['fabric'] for i in cands):
        cands = [i for i in cands if nics[i]['fabric']]
    load = [0] * len(nics)

    def nearness(n, numa):
        if numa is not None and numa == n['numa']:
            return (1, 0)
        if numa is not None and numa_pkg.get(numa) is not None and numa_pkg[numa] == n['package']:
            return (2, 0)
        if dist and numa is not None and n['numa'] is not None:
            return (3, dist[order.index(numa)][order.index(n['numa'])])
        return (4, 0)

    out = []
    for r in range(tasks):
        pus = set()
        for i in out_cores[r]:
            pus |= cores[i]['pus']
        names = []
        if cands:
            best = min(cands, key=lambda i: (nearness(nics[i], out_numa[r]), load[i], i))
            load[best] += 1
            names = nics[best]['_rdma'] or nics[best]['os_devices']
        out.append({'rank': r, 'cpus': cpulist(pus), 'gpus': [], 'gpu_indices': [], 'nics': names,
                    'numa': out_numa[r]})
    return {'tasks': out}


def main():
    xml_dir, out_dir = sys.argv[1], sys.argv[2]
    for f in sorted(os.listdir(xml_dir)):
        if not f.endswith('.xml'):
            continue
        name = f[:-4]
        show, gpus, nics, cores, dist, order = derive(os.path.join(xml_dir, f))
        with open(os.path.join(out_dir, name + '.show.json'), 'w') as fh:
            json.dump(show, fh, indent=2, sort_keys=True)
            fh.write('\n')
        if gpus:
            tasks = min(len(gpus), len(cores))
            if tasks < len(gpus):  # DGX-2 export keeps 4 cores: plan 4 ranks over 16 GPUs
                tasks = len(cores)
            p = plan(gpus, nics, cores, dist, order, tasks)
            with open(os.path.join(out_dir, f'{name}.plan-{tasks}x1.json'), 'w') as fh:
                json.dump(p, fh, indent=2, sort_keys=True)
                fh.write('\n')
        if not gpus:
            tasks = show['numa_nodes']
            p = plan_cpu(show, nics, cores, dist, order, tasks)
            with open(os.path.join(out_dir, f'{name}.plan-{tasks}x0.json'), 'w') as fh:
                json.dump(p, fh, indent=2, sort_keys=True)
                fh.write('\n')
        print(f'{name}: {show["packages"]} packages, {show["numa_nodes"]}+{show["memory_numa_nodes"]} NUMA, '
              f'{show["cores"]} cores, {show["pus"]} PUs, {len(gpus)} GPUs, {len(nics)} NICs')


if __name__ == '__main__':
    main()
