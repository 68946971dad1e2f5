"""Money as every surface shows it: amounts as exact decimal strings (never JSON numbers,
which clients read as binary floats), with their currency."""

from __future__ import annotations

from typing import Any

from vidugate.domain.ledger import Charge
from vidugate.domain.money import amount_text


def price_json(charge: Charge | None) -> dict[str, Any] | None:
    """A task's `price`: what it was priced at when created, whether that is still held
    (reserved), charged (settled) or given back (refunded), and the net charge once known.
    None: no price table was in force when it was made."""
    if charge is None:
        return None
    return {
        "amount": amount_text(charge.price),
        "currency": charge.currency,
        "state": charge.state.value,
        "charged": None if charge.charged is None else amount_text(charge.charged),
    }


def with_price(body: dict[str, Any], charge: Charge | None) -> dict[str, Any]:
    """body with its `price` when the task has one. The Vidu and platform answers keep
    their documented shape exactly when nothing is charged (no price table)."""
    if charge is not None:
        body["price"] = price_json(charge)
    return body
