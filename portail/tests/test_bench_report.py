"""The benchmark report never mixes two setups under one heading (bench/__main__.py)."""

from bench.__main__ import _setup_differences

SETUP = {
    "date": "2026-12-01T15:05:20+00:00",
    "cpu": "Intel(R) Xeon(R) Processor",
    "cores": 2,
    "database": "PostgreSQL 15.20",
    "cache_and_sessions": "Redis",
}


def test_the_same_setup_another_day_has_no_difference():
    assert _setup_differences(SETUP, {**SETUP, "date": "2026-12-02T09:00:00+00:00"}) == ""


def test_another_database_or_machine_is_named():
    assert _setup_differences(SETUP, {**SETUP, "database": "SQLite 3.40.1"}) == (
        "database: PostgreSQL 15.20 → SQLite 3.40.1"
    )
    assert _setup_differences(SETUP, {**SETUP, "cores": 8, "cache_and_sessions": "database"}) == (
        "cores: 2 → 8; cache_and_sessions: Redis → database"
    )
