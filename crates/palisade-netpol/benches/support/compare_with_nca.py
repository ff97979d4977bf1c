"""Compares `bench_netpol --input-yaml` output with network-config-analyzer's.

Usage (from a directory with a manifest file, e.g. written by `bench_netpol --emit-yaml`):

    bench_netpol --input-yaml small.yaml > ours.txt
    nca --connectivity -r small.yaml -o txt_no_fw_rules --output_endpoints deployments \
        --print_ipv6 > nca.txt
    python3 compare_with_nca.py ours.txt nca.txt

Both outputs are normalised (self connections dropped because nca omits them; external ranges
merged per workload and port set, since nca merges adjacent ranges) and compared exactly.
"""
import re, sys, ipaddress, collections
def ip_interval(s):
    if '-' in s and not s.startswith('::'):
        a, b = s.split('-', 1)
    elif '/' in s:
        n = ipaddress.ip_network(s, strict=False); a, b = str(n[0]), str(n[-1])
    else:
        a, b = s.rsplit('-', 1) if '-' in s else (s, s)
    A, B = ipaddress.ip_address(a), ipaddress.ip_address(b)
    return (A.version, int(A), int(B))
def is_ip(s):
    return bool(re.match(r'^[0-9a-f:.]+(-[0-9a-f:.]+|/\d+)?$', s)) and ('.' in s or ':' in s) and '/' not in s.split('-')[0][:0]
def ports_nca(s):
    s = s.strip()
    if s == 'All connections': return frozenset({('ALL',)})
    out = set()
    for m in re.finditer(r'\{protocols:([A-Z,]+)(?:,dst_ports:([0-9,\-]+))?\}', s):
        for p in m.group(1).split(','):
            if m.group(2) is None:
                out.add((p, 1, 65535))
            else:
                for r in m.group(2).split(','):
                    a, _, b = r.partition('-'); out.add((p, int(a), int(b or a)))
    return frozenset(out)
def ports_ours(s):
    s = s.strip()
    if s == 'all': return frozenset({('ALL',)})
    out = set()
    for item in s.split(', '):
        rng, p = item.split('/')
        if rng == 'all': out.add((p, 1, 65535)); continue
        a, _, b = rng.partition('-'); out.add((p, int(a), int(b or a)))
    return frozenset(out)
def load(path, nca):
    rows = collections.defaultdict(list)
    for line in open(path):
        line = line.strip()
        if ' => ' not in line: continue
        l, r = line.split(' => ', 1)
        d, _, p = r.partition(' : ')
        l = l.replace('[Deployment]', ''); d = d.replace('[Deployment]', '')
        if nca:
            l = re.sub(r'^(.+?)/(.+)-(\d+)$', r'\1/\2-\3', l); d = re.sub(r'^(.+?)/(.+)-(\d+)$', r'\1/\2-\3', d)
        ports = ports_nca(p) if nca else ports_ours(p)
        if l == d: continue
        lk = ('ip', ip_interval(l)) if re.match(r'^[0-9a-f:.]+-', l) or re.match(r'^[0-9.]+/', l) else ('w', l)
        dk = ('ip', ip_interval(d)) if re.match(r'^[0-9a-f:.]+-', d) or re.match(r'^[0-9.]+/', d) else ('w', d)
        rows[(lk, dk)].append(ports)
    # normalise: for ip endpoints, merge into (workload, side) -> {ports: merged intervals}
    norm = collections.defaultdict(set)
    for (s, d), ps in rows.items():
        for p in ps:
            if s[0] == 'ip': norm[('in', d[1], p)].add(s[1])
            elif d[0] == 'ip': norm[('out', s[1], p)].add(d[1])
            else: norm[('pp', s[1], d[1])].add(p)
    out = {}
    for k, v in norm.items():
        if k[0] == 'pp': out[k] = frozenset(v)
        else:
            iv = sorted(v); merged = []
            for fam, a, b in iv:
                if merged and merged[-1][0] == fam and merged[-1][2] + 1 >= a:
                    merged[-1] = (fam, merged[-1][1], max(merged[-1][2], b))
                else: merged.append((fam, a, b))
            out[k] = tuple(merged)
    return out
ours, nca = load(sys.argv[1], False), load(sys.argv[2], True)
only_ours = {k: v for k, v in ours.items() if nca.get(k) != v}
only_nca = {k: v for k, v in nca.items() if ours.get(k) != v}
print(f"ours: {len(ours)} keys, nca: {len(nca)} keys, differing: {len(only_ours)} / {len(only_nca)}")
for k in sorted(set(only_ours) | set(only_nca), key=str)[:20]:
    print("DIFF", k, "\n  ours:", ours.get(k), "\n  nca: ", nca.get(k))
