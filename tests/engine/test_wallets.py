"""Weighted rewards wallets: parsing and the deterministic draw."""

from __future__ import annotations

from collections import Counter

import pytest

from wnm.domain.settings import DONATE_ADDRESS, FAUCET_ADDRESS
from wnm.domain.wallets import WalletError, WeightedWallet, parse_wallets, pick_wallet

A = "0x" + "a1" * 20
B = "0x" + "B2" * 20


def test_parse_entries_and_weights() -> None:
    wallets = parse_wallets(f"{A}:100, faucet:1 ,donate:10,{B}", DONATE_ADDRESS)
    assert wallets == (
        WeightedWallet(A, 100),
        WeightedWallet(FAUCET_ADDRESS, 1),
        WeightedWallet(DONATE_ADDRESS, 10),
        WeightedWallet(B, 1),
    )


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "not set"),
        (" , ", "empty entry"),
        ("0x1234", "is not 0x followed by 40 hex digits"),
        (f"{A}:0", "positive integer"),
        (f"{A}:-3", "positive integer"),
        (f"{A}:x", "positive integer"),
        ("wallet", "is not 0x followed by 40 hex digits"),
    ],
)
def test_parse_rejects(text: str, message: str) -> None:
    with pytest.raises(WalletError, match=message):
        parse_wallets(text, DONATE_ADDRESS)


def test_donate_needs_a_valid_donate_address() -> None:
    with pytest.raises(WalletError, match="donate_address"):
        parse_wallets("donate", "nope")


def test_pick_is_deterministic_per_id() -> None:
    wallets = parse_wallets(f"{A}:1,{B}:1", DONATE_ADDRESS)
    assert [pick_wallet(wallets, i) for i in range(1, 50)] == [pick_wallet(wallets, i) for i in range(1, 50)]


def test_single_wallet_always_chosen() -> None:
    wallets = parse_wallets(A, DONATE_ADDRESS)
    assert {pick_wallet(wallets, i) for i in range(1, 200)} == {A}


def test_shares_follow_weights() -> None:
    wallets = parse_wallets(f"{A}:90,faucet:10", DONATE_ADDRESS)
    counts = Counter(pick_wallet(wallets, i) for i in range(1, 10_001))
    assert 8_700 < counts[A] < 9_300
    assert 700 < counts[FAUCET_ADDRESS] < 1_300
