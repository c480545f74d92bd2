"""Customer pseudonyms: stable within an installation, different between installations."""

from __future__ import annotations

import re

import pandas as pd
import pytest

from empowerment.reports.privacy import Pseudonymiser, pseudonymise_customer

LABEL = re.compile(r"^Customer [0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{4}$")


def test_the_same_customer_gets_the_same_label_in_every_run() -> None:
    first = Pseudonymiser("installation-a").customer("C-100")
    again = Pseudonymiser("installation-a").customer("C-100")
    assert first == again
    assert LABEL.match(first)


def test_another_installation_labels_the_same_customer_differently() -> None:
    assert Pseudonymiser("installation-a").customer("C-100") != Pseudonymiser("installation-b").customer("C-100")


def test_labels_do_not_reveal_the_id_and_differ_between_customers() -> None:
    names = Pseudonymiser("k")
    labels = {names.customer(f"guest-{i}") for i in range(5000)}
    assert len(labels) == 5000
    assert all("guest" not in label for label in labels)


def test_the_installation_secret_is_used_by_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EMPOWERMENT_SECRET_KEY", "from-the-environment")
    assert pseudonymise_customer("C-7") == Pseudonymiser("from-the-environment").customer("C-7")
    monkeypatch.setenv("EMPOWERMENT_SECRET_KEY", "another-installation")
    assert pseudonymise_customer("C-7") != Pseudonymiser("from-the-environment").customer("C-7")


def test_the_label_is_not_a_plain_hash_of_the_secret_used_for_cookies() -> None:
    import hashlib
    import hmac

    direct = hmac.new(b"k", b"C-1", hashlib.sha256).hexdigest()[:12].upper()
    assert direct.replace("-", "") not in Pseudonymiser("k").customer("C-1").replace("-", "")


def test_the_vector_form_matches_one_by_one() -> None:
    names = Pseudonymiser("k")
    codes = pd.Series(["C-1", "C-2", "C-1", 42])
    assert list(names.series(codes)) == [names.customer("C-1"), names.customer("C-2"),
                                         names.customer("C-1"), names.customer("42")]
