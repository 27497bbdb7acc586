#!/usr/bin/env bash
# Open MPI's "rsh agent" for hosts that are network namespaces on this machine (scripts/mpi_netns.sh):
# called as `netns_rsh.sh HOST COMMAND…`, it runs COMMAND in namespace HOST with its own hostname.
set -euo pipefail
host="$1"; shift
exec ip netns exec "$host" unshare --uts /bin/sh -c "hostname $host && $*"
