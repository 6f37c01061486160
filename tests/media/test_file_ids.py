"""File ids are pasted into command lines: none starts with a dash (read as an option)."""

from __future__ import annotations

import re

from heliograph.services.files import new_file_id


def test_no_file_id_starts_with_a_dash() -> None:
    # One in 64 would without the rule: 5,000 draws would all but surely meet one.
    ids = {new_file_id() for _ in range(5000)}
    assert len(ids) == 5000
    assert all(re.fullmatch(r"[A-Za-z0-9_][A-Za-z0-9_-]{23}", i) for i in ids)
