"""realtier.run.localstack.free_port: ports its servers bind a moment later."""

from __future__ import annotations

import socket

from realtier.run.localstack import LOOPBACK, PORT_RANGE, free_port


def test_ports_are_free_below_the_ephemeral_range_and_never_handed_out_twice():
    ports = [free_port() for _ in range(50)]
    assert len(set(ports)) == len(ports)
    assert all(PORT_RANGE[0] <= port < PORT_RANGE[1] for port in ports)
    low, _ = (int(value) for value in open("/proc/sys/net/ipv4/ip_local_port_range").read().split())
    assert PORT_RANGE[1] < low  # no outgoing connection takes one of them as its source port
    with socket.socket() as server:
        server.bind((LOOPBACK, ports[-1]))  # each was free
