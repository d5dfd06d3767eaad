"""Parsing and drawing from the weighted ``rewards_address`` list (``0xA:100,faucet:1,donate:10``)."""

from __future__ import annotations

import hashlib
import re

from wnm.domain.settings import FAUCET_ADDRESS

ADDRESS = re.compile(r"^0x[0-9a-fA-F]{40}$")


class WalletError(ValueError):
    """The rewards address text is malformed; the message says which entry and why."""


def parse_wallets(text: str, donate_address: str) -> tuple[tuple[str, int], ...]:
    """``(address, weight)`` pairs; ``faucet``/``donate`` resolved; weight defaults to 1."""
    entries = [e.strip() for e in text.split(",")]
    if not text.strip():
        raise WalletError("is required: a 0x address, faucet, donate, or addr:weight,...")
    result: list[tuple[str, int]] = []
    for entry in entries:
        if not entry:
            raise WalletError(f"has an empty entry in {text!r}")
        name, sep, weight_text = entry.partition(":")
        name = name.strip()
        weight = 1
        if sep:
            if not weight_text.strip().isdigit() or int(weight_text) < 1:
                raise WalletError(f"weight of {name!r} must be a whole number >= 1, not {weight_text!r}")
            weight = int(weight_text)
        lowered = name.lower()
        if lowered == "faucet":
            address = FAUCET_ADDRESS
        elif lowered == "donate":
            address = donate_address
        elif ADDRESS.match(name):
            address = name
        else:
            raise WalletError(f"entry {name!r} is not 0x followed by 40 hex digits, 'faucet' or 'donate'")
        result.append((address, weight))
    return tuple(result)


def draw_wallet(wallets: tuple[tuple[str, int], ...], key: int) -> str:
    """Pick an address for node ``key`` deterministically, in proportion to the weights."""
    total = sum(w for _, w in wallets)
    point = int.from_bytes(hashlib.sha256(str(key).encode()).digest()[:8], "big") % total
    for address, weight in wallets:
        if point < weight:
            return address
        point -= weight
    return wallets[-1][0]
