"""Rewards wallets: parse the weighted ``rewards_address`` list and draw one per node.

``rewards_address`` is a comma list of ``entry[:weight]``; an entry is an EVM address
(``0x`` + 40 hex digits), ``faucet`` (FAUCET_ADDRESS) or ``donate`` (``donate_address``); the
weight is a positive integer, 1 when left out. The draw is deterministic: a SHA-256 of the
node id is mapped onto the cumulative weights, so the same id always gets the same wallet and
the shares follow the weights over many ids — no random numbers, so plans are reproducible.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

from wnm.domain.settings import FAUCET_ADDRESS

ADDRESS = re.compile(r"^0x[0-9a-fA-F]{40}$")


class WalletError(ValueError):
    """``rewards_address`` (or ``donate_address``) cannot be used; the message says why."""


@dataclass(frozen=True)
class WeightedWallet:
    address: str
    weight: int


def parse_wallets(rewards_address: str, donate_address: str) -> tuple[WeightedWallet, ...]:
    """The usable wallets with their weights.

    Raises WalletError for an empty list, an entry that is not an address/``faucet``/``donate``,
    a weight that is not a positive integer, or a ``donate`` entry whose address is invalid.
    """
    if not rewards_address.strip():
        raise WalletError("rewards_address is not set")
    entries = [e.strip() for e in rewards_address.split(",")]
    if not all(entries):
        raise WalletError(f"rewards_address {rewards_address!r} has an empty entry")
    wallets: list[WeightedWallet] = []
    for entry in entries:
        name, _, weight_text = entry.partition(":")
        address = _resolve(name.strip(), donate_address)
        weight = _weight(entry, weight_text.strip())
        wallets.append(WeightedWallet(address, weight))
    return tuple(wallets)


def _resolve(name: str, donate_address: str) -> str:
    lowered = name.lower()
    if lowered == "faucet":
        return FAUCET_ADDRESS
    if lowered == "donate":
        if not ADDRESS.match(donate_address):
            raise WalletError(f"donate_address {donate_address!r} is not 0x followed by 40 hex digits")
        return donate_address
    if ADDRESS.match(name):
        return name
    raise WalletError(
        f"rewards_address entry {name!r} is not 0x followed by 40 hex digits, 'faucet' or 'donate'"
    )


def _weight(entry: str, text: str) -> int:
    if not text:
        return 1
    if not text.isdigit() or int(text) < 1:
        raise WalletError(f"rewards_address entry {entry!r}: weight must be a positive integer")
    return int(text)


def pick_wallet(wallets: tuple[WeightedWallet, ...], node_id: int) -> str:
    """The wallet for ``node_id``: hash of the id onto the cumulative weights (deterministic)."""
    total = sum(w.weight for w in wallets)
    digest = hashlib.sha256(f"wnm-wallet:{node_id}".encode()).digest()
    point = int.from_bytes(digest[:8], "big") % total
    for wallet in wallets:
        if point < wallet.weight:
            return wallet.address
        point -= wallet.weight
    raise AssertionError("point beyond the cumulative weights")  # unreachable: point < total
