"""Login request time beside one Argon2id verify.

A member's login is one POST through the whole stack (middlewares, form, NIR
parsing, lockout counters in the cache, session, security log) and exactly one
peppered Argon2id verify with the production parameters. The ratio says what
the rest costs: near 1.0, the hash is the whole bill, as it should be.
"""

import time
from urllib.parse import urlencode

from bench.common import PERSONAL_CODE, bar, bench_member, median_and_spread

REPEATS = 40
QUICK_REPEATS = 12


def run(quick: bool) -> dict:
    from django.contrib.auth.hashers import check_password
    from django.test import Client
    from django.urls import reverse

    nir, user = bench_member()
    repeats = QUICK_REPEATS if quick else REPEATS
    url = reverse("public:member_space")
    body = urlencode({"nir": nir.formatted, "code": PERSONAL_CODE})

    verify_times, login_times = [], []
    # One client, as one server process: its handler (and the middleware chain) is built once.
    client = Client(HTTP_HOST="127.0.0.1")
    progress = bar(repeats, "one Argon2id verify, then one login request")
    for _ in range(repeats):
        started = time.perf_counter()
        assert check_password(PERSONAL_CODE, user.password)
        verify_times.append(time.perf_counter() - started)

        client.cookies.clear()  # a new visitor each time: no session yet
        started = time.perf_counter()
        # Encoded as a browser sends the login form (no enctype): the test client's default is multipart.
        response = client.post(url, body, content_type="application/x-www-form-urlencoded")
        login_times.append(time.perf_counter() - started)
        assert response.status_code == 302, response.status_code
        progress.update(1)
    progress.close()

    verify, verify_spread = median_and_spread(verify_times)
    login, login_spread = median_and_spread(login_times)
    return {
        "argon2_verify_ms_median": round(verify * 1000, 1),
        "argon2_verify_ms_p10_p90_spread": round(verify_spread * 1000, 1),
        "login_request_ms_median": round(login * 1000, 1),
        "login_request_ms_p10_p90_spread": round(login_spread * 1000, 1),
        "ratio_login_over_verify": round(login / verify, 2),
        "target": "ratio <= 1.2",
        "repeats": repeats,
    }
