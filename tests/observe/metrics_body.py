# ruff: noqa: E501  (metric sample lines and help texts are long by nature)
"""Realistic antnode ``/metrics`` and ``/metadata`` bodies for parser tests and the probe bench.

The structure follows the real 0.4.7 capture (antnode.md §10.1) with the 0.4.17 additions
(§10.2) and the libp2p families of §9.3 filled in, so a body is ≈ 550 lines / 55 KB like a real
one. Values are deterministic for a given ``seed``.
"""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

PEER_ID = "12D3KooWMDqtXsSEbuWZ5wdrr3Ai6rUWJta6yBgutJaJXusSujuu"


@dataclass
class Values:
    """The values managers read (the M names of antnode.md §9)."""

    uptime: int = 1260
    records: int = 1
    connected_peers: int = 4
    network_size: int = 2064384
    open_connections: int = 4
    routing_table_peers: int = 362
    shunned_count: int = 0
    bad_peers: int = 0
    shunned_by_close_group: int = 0
    reward_balance: str = "0"
    puts: Mapping[str, int] = field(default_factory=lambda: {"Chunk": 1})
    mem_mb: str = "97.8125"
    cpu_percent: str = "0.0353"
    relevant_records: int = 0
    max_records: int = 0
    payment_count: int = 0
    live_time: int = 0


def _family(out: list[str], name: str, kind: str, help_text: str, unit: str = "") -> None:
    out.append(f"# HELP {name} {help_text}.")
    out.append(f"# TYPE {name} {kind}")
    if unit:
        out.append(f"# UNIT {name} {unit}")


def _histogram(out: list[str], name: str, bounds: Sequence[str], labels: str, rnd: random.Random) -> None:
    count = rnd.randint(0, 500)
    lab = "{" + labels + "}" if labels else ""
    out.append(f"{name}_sum{lab} {count * 0.37:.1f}")
    out.append(f"{name}_count{lab} {count}")
    sep = "," if labels else ""
    running = 0
    for b in bounds:
        running = min(count, running + rnd.randint(0, max(1, count // 3)))
        value = count if b == "+Inf" else running
        out.append(f'{name}_bucket{{{labels}{sep}le="{b}"}} {value}')


ERROR_TYPES = (
    "NoPayment", "PaymentVerificationFailed", "OversizedChunk", "InvalidRecord", "RecordExists",
    "OutdatedRecord", "WrongKey", "SignatureInvalid", "QuoteExpired", "PaymentTooLow",
    "UnknownRecordType", "ScratchpadCounter", "PointerCounter", "GraphEntryParents",
    "StoreFull", "SerializationFailed", "NetworkError", "Timeout", "Other",
)  # fmt: skip

PROTOCOLS = (
    "/ant/1.0/1/kad", "/ant/1.0/1/req", "/ipfs/id/1.0.0", "/ipfs/id/push/1.0.0",
    "/libp2p/circuit/relay/0.2.0/hop", "/libp2p/circuit/relay/0.2.0/stop", "/ipfs/ping/1.0.0",
    "/libp2p/autonat/1.0.0", "/libp2p/dcutr", "/meshsub/1.1.0", "/meshsub/1.0.0",
    "/ipfs/kad/1.0.0", "/ant/1.0/1/quote", "/ant/1.0/1/replicate", "unrecognized",
)  # fmt: skip


def render_metrics(
    values: Values | None = None, *, seed: int = 7, eof: bool = True, node_versions: int = 12
) -> str:
    """A full ``/metrics`` body; ``eof=False`` leaves out the final ``# EOF``.

    ``node_versions`` is the number of peer-version series (grows on a real network).
    """
    v = values or Values()
    rnd = random.Random(seed)
    out: list[str] = []
    _family(out, "ant_node_put_record_ok", "counter", "Number of successful record PUTs")
    for record_type, n in v.puts.items():
        out.append(f'ant_node_put_record_ok_total{{record_type="{record_type}"}} {n}')
    _family(out, "ant_node_put_record_err", "counter", "Number of errors during record PUTs")
    out.append("ant_node_put_record_err_total 0")
    _family(out, "ant_node_put_record_err_v2", "counter", "Number of errors during record PUTs")
    for e in ERROR_TYPES:
        out.append(f'ant_node_put_record_err_v2_total{{error_type="{e}"}} {rnd.randint(0, 40)}')
    _family(
        out, "ant_node_replication_triggered", "counter", "Number of time that replication has been triggered"
    )
    out.append(f"ant_node_replication_triggered_total {rnd.randint(100, 900)}")
    _family(
        out,
        "ant_node_replication_keys_to_fetch",
        "histogram",
        "Number of replication keys to fetch from the network",
    )
    _histogram(out, "ant_node_replication_keys_to_fetch", ("1.0", "2.0", "4.0", "8.0", "+Inf"), "", rnd)
    _family(out, "ant_node_network_wide_replication_holders_v2", "histogram", "Holders seen per record")
    _histogram(
        out,
        "ant_node_network_wide_replication_holders_v2",
        ("0.2", "0.4", "0.6", "0.8", "1.0", "+Inf"),
        "",
        rnd,
    )
    _family(
        out,
        "ant_node_peer_added_to_routing_table",
        "counter",
        "Number of peers that have been added to the Routing Table",
    )
    out.append(f"ant_node_peer_added_to_routing_table_total {v.routing_table_peers + 1}")
    _family(
        out,
        "ant_node_peer_removed_from_routing_table",
        "counter",
        "Number of peers that have been removed from the Routing Table",
    )
    out.append("ant_node_peer_removed_from_routing_table_total 1")
    _family(
        out,
        "ant_node_current_reward_wallet_balance",
        "gauge",
        "The number of Nanos in the node reward wallet",
    )
    out.append(f"ant_node_current_reward_wallet_balance {v.reward_balance}")
    _family(
        out,
        "ant_node_total_forwarded_rewards",
        "gauge",
        "The cumulative number of Nanos forwarded by the node",
    )
    out.append("ant_node_total_forwarded_rewards 0")
    _family(out, "ant_node_uptime", "gauge", "The uptime of the node in seconds")
    out.append(f"ant_node_uptime {v.uptime}")
    _libp2p(out, rnd)
    _networking(out, v, rnd, node_versions)
    if eof:
        out.append("# EOF")
    return "\n".join(out) + "\n"


def _libp2p(out: list[str], rnd: random.Random) -> None:
    _family(
        out,
        "libp2p_bandwidth_bytes",
        "counter",
        "Bandwidth usage by direction and transport protocols",
        "bytes",
    )
    for proto in ("/ip4/udp/quic-v1/p2p", "/ip4/udp/quic-v1/p2p-circuit/p2p", "/ip6/udp/quic-v1/p2p"):
        for direction in ("Inbound", "Outbound"):
            out.append(
                f'libp2p_bandwidth_bytes_total{{protocols="{proto}",direction="{direction}"}} {rnd.randint(10**5, 10**8)}'
            )
    for what in ("errors", "pushed", "received", "sent"):
        _family(out, f"libp2p_identify_{what}", "counter", f"Number of times identification {what}")
        out.append(f"libp2p_identify_{what}_total {rnd.randint(0, 3000)}")
    _family(
        out, "libp2p_identify_remote_protocols", "gauge", "Number of connected nodes supporting a protocol"
    )
    for p in PROTOCOLS:
        out.append(f'libp2p_identify_remote_protocols{{protocol="{p}"}} {rnd.randint(0, 60)}')
    _family(
        out,
        "libp2p_identify_remote_listen_addresses",
        "gauge",
        "Number of connected nodes advertising a listen address",
    )
    for a in (
        "/ip4/udp/quic-v1",
        "/ip6/udp/quic-v1",
        "/ip4/udp/quic-v1/p2p-circuit",
        "/ip4/tcp",
        "/dns4/udp/quic-v1",
    ):
        out.append(f'libp2p_identify_remote_listen_addresses{{listen_address="{a}"}} {rnd.randint(0, 60)}')
    _family(
        out,
        "libp2p_identify_local_observed_addresses",
        "gauge",
        "Number of connected nodes observing us at an address",
    )
    for a in ("/ip4/udp/quic-v1", "/ip6/udp/quic-v1"):
        out.append(f'libp2p_identify_local_observed_addresses{{observed_address="{a}"}} {rnd.randint(0, 60)}')
    kinds = (
        "Bootstrap",
        "GetClosestPeers",
        "GetProviders",
        "StartProviding",
        "RepublishProvider",
        "GetRecord",
        "PutRecord",
    )
    for what in ("get_record_ok", "get_closest_peers_ok", "get_providers_ok"):
        _family(out, f"libp2p_kad_query_result_{what}", "counter", f"Number of {what} results")
        out.append(f"libp2p_kad_query_result_{what}_total {rnd.randint(0, 900)}")
    _family(
        out,
        "libp2p_kad_query_result_get_record_error",
        "counter",
        "Number of failed Kademlia get record queries",
    )
    for e in ("NotFound", "QuorumFailed", "Timeout"):
        out.append(f'libp2p_kad_query_result_get_record_error_total{{error="{e}"}} {rnd.randint(0, 90)}')
    buckets = ("0.01", "0.05", "0.1", "0.25", "0.5", "1.0", "2.5", "5.0", "10.0", "+Inf")
    _family(out, "libp2p_kad_query_result_duration", "histogram", "Duration of a Kademlia query", "seconds")
    for k in kinds:
        _histogram(out, "libp2p_kad_query_result_duration_seconds", buckets, f'type="{k}"', rnd)
    _family(
        out,
        "libp2p_kad_routing_updated",
        "counter",
        "Number of peers added, updated or evicted to, in or from a specific kbucket in the routing table",
    )
    for bucket in range(240, 256):
        for action in ("Added", "Updated"):
            out.append(
                f'libp2p_kad_routing_updated_total{{action="{action}",bucket="{bucket}"}} {rnd.randint(0, 400)}'
            )
    _family(out, "libp2p_kad_inbound_requests", "counter", "Number of inbound requests")
    for r in ("FindNode", "GetProvider", "AddProvider", "GetRecord", "PutRecord"):
        out.append(f'libp2p_kad_inbound_requests_total{{request="{r}"}} {rnd.randint(0, 9000)}')
    _family(out, "libp2p_relay_events", "counter", "Events emitted by the relay NetworkBehaviour")
    for e in (
        "ReservationReqAccepted",
        "ReservationReqDenied",
        "ReservationTimedOut",
        "CircuitReqDenied",
        "CircuitClosed",
    ):
        out.append(f'libp2p_relay_events_total{{event="{e}"}} {rnd.randint(0, 50)}')
    _swarm(out, rnd)


def _swarm(out: list[str], rnd: random.Random) -> None:
    _family(
        out,
        "libp2p_swarm_connections_incoming",
        "counter",
        "Number of incoming connections per address stack",
    )
    for p in ("/ip4/udp/quic-v1", "/ip6/udp/quic-v1"):
        out.append(f'libp2p_swarm_connections_incoming_total{{protocols="{p}"}} {rnd.randint(0, 5000)}')
    _family(out, "libp2p_swarm_connections_incoming_error", "counter", "Number of incoming connection errors")
    for e in (
        "Aborted",
        "WrongPeerId",
        "LocalPeerId",
        "TransportErrorMultiaddrNotSupported",
        "TransportErrorOther",
        "Denied",
    ):
        out.append(
            f'libp2p_swarm_connections_incoming_error_total{{error="{e}",protocols="/ip4/udp/quic-v1"}} {rnd.randint(0, 90)}'
        )
    _family(out, "libp2p_swarm_connections_established", "counter", "Number of connections established")
    for role in ("Dialer", "Listener"):
        for p in ("/ip4/udp/quic-v1", "/ip6/udp/quic-v1", "/ip4/udp/quic-v1/p2p-circuit"):
            out.append(
                f'libp2p_swarm_connections_established_total{{role="{role}",protocols="{p}"}} {rnd.randint(0, 5000)}'
            )
    _family(
        out,
        "libp2p_swarm_connections_establishment_duration",
        "histogram",
        "Time it took (locally) to establish connections",
        "seconds",
    )
    bounds = (
        "0.01",
        "0.015",
        "0.0225",
        "0.03375",
        "0.050625",
        "0.0759375",
        "0.11390625",
        "0.170859375",
        "0.2562890625",
        "0.38443359375",
        "+Inf",
    )
    for role in ("Dialer", "Listener"):
        for p in ("/ip4/udp/quic-v1", "/ip6/udp/quic-v1"):
            _histogram(
                out,
                "libp2p_swarm_connections_establishment_duration_seconds",
                bounds,
                f'role="{role}",protocols="{p}"',
                rnd,
            )
    _family(out, "libp2p_swarm_connections_duration", "histogram", "Time a connection was alive", "seconds")
    bounds2 = ("0.01", "0.03", "0.09", "0.27", "0.81", "2.43", "7.29", "21.87", "65.61", "196.83", "+Inf")
    for role in ("Dialer", "Listener"):
        for cause in ("Io", "KeepAliveTimeout", "Handler", "Unknown"):
            _histogram(
                out, "libp2p_swarm_connections_duration_seconds", bounds2,
                f'role="{role}",protocols="/ip4/udp/quic-v1",cause="{cause}"', rnd,
            )  # fmt: skip
    _family(out, "libp2p_swarm_new_listen_addr", "counter", "Number of new listen addresses")
    out.append(f'libp2p_swarm_new_listen_addr_total{{protocols="/ip4/udp/quic-v1"}} {rnd.randint(1, 4)}')
    _family(out, "libp2p_swarm_expired_listen_addr", "counter", "Number of expired listen addresses")
    _family(out, "libp2p_swarm_listener_closed", "counter", "Number of listeners closed")
    _family(out, "libp2p_swarm_listener_error", "counter", "Number of listener errors")
    out.append("libp2p_swarm_listener_error_total 0")
    _family(out, "libp2p_swarm_dial_attempt", "counter", "Number of dial attempts")
    out.append(f"libp2p_swarm_dial_attempt_total {rnd.randint(1000, 90000)}")
    _family(out, "libp2p_swarm_outgoing_connection_error", "counter", "Number outgoing connection errors")
    for peer in ("Known", "Unknown"):
        for e in (
            "LocalPeerId",
            "NoAddresses",
            "DialPeerConditionFalse",
            "Aborted",
            "WrongPeerId",
            "TransportMultiaddrNotSupported",
            "TransportOther",
            "Denied",
        ):
            out.append(
                f'libp2p_swarm_outgoing_connection_error_total{{peer="{peer}",error="{e}"}} {rnd.randint(0, 2000)}'
            )


def _networking(out: list[str], v: Values, rnd: random.Random, node_versions: int) -> None:
    gauges: list[tuple[str, str, str]] = [
        ("ant_networking_records_stored", "The number of records stored locally", str(v.records)),
        (
            "ant_networking_relay_reservation_health",
            "The average health of all the relay reservation connections",
            "0.0",
        ),
        (
            "ant_networking_connected_peers",
            "The number of peers that we are currently connected to",
            str(v.connected_peers),
        ),
        (
            "ant_networking_connected_relay_clients",
            "The number of relay clients that are currently connected to us",
            "0",
        ),
        (
            "ant_networking_estimated_network_size",
            "The estimated number of nodes in the network calculated by the peers in our RT",
            str(v.network_size),
        ),
        (
            "ant_networking_relay_peers_percentage",
            "The percentage of relay peers in our routing table",
            "0.0",
        ),
        (
            "ant_networking_open_connections",
            "The number of active connections to other peers",
            str(v.open_connections),
        ),
        (
            "ant_networking_peers_in_routing_table",
            "The total number of peers in our routing table",
            str(v.routing_table_peers),
        ),
        (
            "ant_networking_relay_peers_in_routing_table",
            "The total number of relay peers in our routing table",
            "0",
        ),
    ]
    for name, help_text, value in gauges:
        _family(out, name, "gauge", help_text)
        out.append(f"{name} {value}")
    _family(out, "ant_networking_shunned_count", "counter", "Number of peers that have shunned our node")
    out.append(f"ant_networking_shunned_count_total {v.shunned_count}")
    _family(
        out,
        "ant_networking_bad_peers_count",
        "counter",
        "Number of bad peers that have been detected by us and been added to the blocklist",
    )
    out.append(f"ant_networking_bad_peers_count_total {v.bad_peers}")
    _family(out, "ant_networking_upnp_events", "counter", "Events emitted by the UPnP behaviour")
    for e in ("NewExternalAddr", "ExpiredExternalAddr", "GatewayNotFound", "NonRoutableGateway"):
        out.append(f'ant_networking_upnp_events_total{{event="{e}"}} {rnd.randint(0, 3)}')
    _family(out, "ant_networking_relay_client_events", "counter", "Events emitted by the relay client")
    for e in ("ReservationReqAccepted", "OutboundCircuitEstablished", "InboundCircuitEstablished"):
        out.append(f'ant_networking_relay_client_events_total{{event="{e}"}} 0')
    _family(out, "ant_networking_node_versions", "gauge", "Number of nodes running each version")
    for i in range(node_versions):
        out.append(
            f'ant_networking_node_versions{{version="20{25 + i // 48}.{i % 12 + 1}.{i // 12 % 4 + 1}.{i % 7}"}} {rnd.randint(1, 90)}'
        )
    _family(out, "ant_networking_process_memory_used_mb", "gauge", "Memory used by the process in MegaBytes")
    out.append(f"ant_networking_process_memory_used_mb {v.mem_mb}")
    _family(
        out,
        "ant_networking_process_cpu_usage_percentage",
        "gauge",
        "The percentage of CPU used by the process. Value is from 0-100",
    )
    out.append(f"ant_networking_process_cpu_usage_percentage {v.cpu_percent}")
    _family(out, "ant_networking_replicate_candidates_v2", "gauge", "Replication candidates per range")
    for r in ("close_group", "extended", "far"):
        out.append(f'ant_networking_replicate_candidates_v2{{range="{r}"}} {rnd.randint(0, 40)}')
    _family(out, "ant_networking_replication_sender_outcome_v2", "counter", "Replication outcome per sender")
    for o in ("Accepted", "Rejected"):
        out.append(
            f'ant_networking_replication_sender_outcome_v2_total{{outcome="{o}"}} {rnd.randint(0, 900)}'
        )
    _family(
        out,
        "ant_networking_replication_keys_incoming_percentages_v2",
        "gauge",
        "Incoming replication keys by metric type",
    )
    for m in ("in_range", "out_of_range", "already_held"):
        out.append(
            f'ant_networking_replication_keys_incoming_percentages_v2{{metric_type="{m}"}} {rnd.random() * 100:.4f}'
        )
    quoting = [
        (
            "ant_networking_relevant_records",
            "The number of records that we're responsible for. This is used to calculate the store cost",
            v.relevant_records,
        ),
        (
            "ant_networking_max_records",
            "The maximum number of records that we can store. This is used to calculate the store cost",
            v.max_records,
        ),
        (
            "ant_networking_received_payment_count",
            "The number of payments received by our node. This is used to calculate the store cost",
            v.payment_count,
        ),
        (
            "ant_networking_live_time",
            "The time for which the node has been alive. This is used to calculate the store cost",
            v.live_time,
        ),
        (
            "ant_networking_shunned_by_close_group",
            "The number of close group peers that have shunned our node",
            v.shunned_by_close_group,
        ),
        (
            "ant_networking_shunned_by_old_close_group",
            "The number of close group peers that have shunned our node. This includes the peers that were once in our close group",
            0,
        ),
    ]
    for name, help_text, n in quoting:
        _family(out, name, "gauge", help_text)
        out.append(f"{name} {n}")
    _family(
        out,
        "ant_networking_version_check_result",
        "counter",
        "Peer version check results by type (accepted/rejected/legacy/parse_error)",
    )
    out.append(
        f'ant_networking_version_check_result_total{{peer_type="Node",result="Accepted"}} {rnd.randint(100, 900)}'
    )
    out.append(
        f'ant_networking_version_check_result_total{{peer_type="Client",result="Accepted"}} {rnd.randint(1, 90)}'
    )


def render_metadata(version: str = "0.4.17", peer_id: str = PEER_ID) -> str:
    """A ``/metadata`` body of antnode ≥ 0.4.14."""
    return (
        "# HELP ant_node_antnode_version The version of the ant node.\n"
        "# TYPE ant_node_antnode_version info\n"
        f'ant_node_antnode_version_info{{antnode_version="{version}"}} 1\n'
        "# HELP ant_node_antnode_branch The branch of the ant node.\n"
        "# TYPE ant_node_antnode_branch info\n"
        'ant_node_antnode_branch_info{antnode_branch="stable"} 1\n'
        "# HELP ant_networking_peer_id Identifier of a peer of the network.\n"
        "# TYPE ant_networking_peer_id info\n"
        f'ant_networking_peer_id_info{{peer_id="{peer_id}"}} 1\n'
        "# HELP ant_networking_identify_protocol_str The protocol version string that is used to connect to the correct network.\n"
        "# TYPE ant_networking_identify_protocol_str info\n"
        'ant_networking_identify_protocol_str_info{identify_protocol_str="ant/1.0/1"} 1\n'
        "# HELP ant_networking_min_node_version Minimum required node version for connecting peers.\n"
        "# TYPE ant_networking_min_node_version info\n"
        'ant_networking_min_node_version_info{min_node_version="0.4.15"} 1\n'
        "# EOF\n"
    )
