"""The portal's settings with the benchmarks' URLs (the portal's, plus the bare reference views)."""

from portail.settings import *  # noqa: F403

ROOT_URLCONF = "bench.urls"
