#!/bin/sh
# netns-veth.sh CMD...: inside a fresh network namespace (run it under
# `unshare -n` as root, as the e2e tests are; `-r`, a user namespace, is
# refused in some containers, such as CI's clean Debian root), brings
# loopback up and creates a veth pair whose two ends have addresses of this
# namespace only (10.203.0.1/24 on v0, 10.203.0.2/24 on v1; nothing is
# routed out), then runs CMD with HUDDLE_SFU_IFACE=v0.
# Janus ignores the loopback interface for media, so SFU tests need it.
set -eu
ip link set lo up
ip link add v0 type veth peer name v1
ip addr add 10.203.0.1/24 dev v0
ip addr add 10.203.0.2/24 dev v1
ip link set v0 up
ip link set v1 up
HUDDLE_SFU_IFACE=v0
export HUDDLE_SFU_IFACE
exec "$@"
