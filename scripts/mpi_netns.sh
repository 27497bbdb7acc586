#!/usr/bin/env bash
# GenLab across real network hosts on one machine: HOSTS network namespaces joined to this one by veth
# pairs (10.77.N.0/24), mpirun starting one rank in each through `ip netns exec` (scripts/netns_rsh.sh)
# and the ranks talking over TCP only. Runs a short data-parallel training and a sharded scoring over
# them and checks both against one process. Exit 0: passed; 77: this machine does not allow it (not
# root, or no network namespaces); anything else: failed.
#   usage: scripts/mpi_netns.sh [GENLAB_BINARY]   (HOSTS=3 for three hosts)
set -euo pipefail
cd "$(dirname "$0")/.."
genlab="$(realpath "${1:-.build/release/genlab}")"
hosts="${HOSTS:-2}"
skip() { echo "mpi_netns: skipped: $*" >&2; exit 77; }
[ "$(id -u)" -eq 0 ] || skip "needs root to make network namespaces"
command -v ip >/dev/null || skip "no iproute2 (apt-get install iproute2)"
command -v mpirun >/dev/null || skip "no mpirun (apt-get install openmpi-bin)"
command -v unshare >/dev/null || skip "no unshare (util-linux)"
ip netns add genlab-probe 2>/dev/null || skip "this machine does not allow network namespaces"
ip netns del genlab-probe
work="$(mktemp -d /tmp/genlab-netns.XXXXXX)"
forward="$(cat /proc/sys/net/ipv4/ip_forward)"
cleanup() {
    for i in $(seq 1 "$hosts"); do ip netns del "glhost$i" 2>/dev/null || true; ip link del "glveth$i" 2>/dev/null || true; done
    echo "$forward" > /proc/sys/net/ipv4/ip_forward
    rm -rf "$work"
}
trap cleanup EXIT
for i in $(seq 1 "$hosts"); do
    ip netns add "glhost$i"
    ip link add "glveth$i" type veth peer name eth0 netns "glhost$i"
    ip addr add "10.77.$i.1/24" dev "glveth$i"
    ip link set "glveth$i" up
    ip netns exec "glhost$i" ip addr add "10.77.$i.2/24" dev eth0
    ip netns exec "glhost$i" ip link set eth0 up
    ip netns exec "glhost$i" ip link set lo up
    ip netns exec "glhost$i" ip route add default via "10.77.$i.1"
    echo "glhost$i slots=1" >> "$work/hostfile"
done
echo 1 > /proc/sys/net/ipv4/ip_forward   # the hosts reach each other through this namespace

mpi=(mpirun --allow-run-as-root --oversubscribe -np "$hosts" --hostfile "$work/hostfile"
     --mca plm_rsh_agent "$PWD/scripts/netns_rsh.sh" --mca btl tcp,self
     --mca oob_tcp_if_include 10.77.0.0/16 --mca btl_tcp_if_include 10.77.0.0/16 -x GENLAB_THREADS=1)
export GENLAB_THREADS=1
echo "mpi_netns: $hosts hosts: $(tr '\n' ' ' < "$work/hostfile")"
"${mpi[@]}" /bin/sh -c 'echo "  rank $OMPI_COMM_WORLD_RANK on $(hostname), $(ip -4 -o addr show eth0 | awk "{print \$4}")"'

train=(train vae --data Datasets/faces --epochs 2 --batch-size 16 --max-steps 4 --quiet)
"$genlab" "${train[@]}" --out "$work/one" >/dev/null
"${mpi[@]}" "$genlab" "${train[@]}" --out "$work/many"
"$genlab" train ae --data Datasets/jets/qcd_train.h5 --out "$work/ae" --epochs 1 --max-steps 10 --batch-size 128 --quiet >/dev/null
files=(Datasets/jets/qcd_test.h5 Datasets/jets/top_test.h5)
"$genlab" score --checkpoint "$work/ae/checkpoint.safetensors" "${files[@]}" --out "$work/score_one" >/dev/null
"${mpi[@]}" "$genlab" score --checkpoint "$work/ae/checkpoint.safetensors" "${files[@]}" --out "$work/score_many" > "$work/score_many.txt"
head -1 "$work/score_many.txt"
cmp "$work/score_one/scores.csv" "$work/score_many/scores.csv"
cmp "$work/score_one/flagged.csv" "$work/score_many/flagged.csv"
grep -q "\"ranks\" : $hosts" "$work/score_many/report.json"
python3 - "$work/one/checkpoint.safetensors" "$work/many/checkpoint.safetensors" "$hosts" <<'PY'
import json, struct, sys
def tensors(path):
    b = open(path, 'rb').read(); n = struct.unpack('<Q', b[:8])[0]; h = json.loads(b[8:8 + n])
    out = {}
    for k, v in h.items():
        if k == '__metadata__' or v['dtype'] != 'F32': continue
        s, e = v['data_offsets']; raw = b[8 + n + s:8 + n + e]
        out[k] = struct.unpack('<%df' % (len(raw) // 4), raw)
    return out, h.get('__metadata__', {})
a, _ = tensors(sys.argv[1]); b, meta = tensors(sys.argv[2])
assert meta.get('genlab.ranks') == sys.argv[3], meta.get('genlab.ranks')
worst = 0.0
for k in a:
    if k.startswith('_optimizer'): continue
    scale = 1 + max(map(abs, a[k]))
    worst = max(worst, max(abs(x - y) for x, y in zip(a[k], b[k])) / scale)
print('  training over the hosts: largest parameter difference from one process %.2e' % worst)
assert worst < 1e-5, worst
PY
echo "mpi_netns: passed (training equals one process; scores.csv and flagged.csv byte-identical)"
