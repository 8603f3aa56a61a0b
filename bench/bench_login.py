"""Login request time beside one Argon2id verify.

A member's login is one POST through the whole stack (middlewares, form, NIR
parsing, lockout counters in the cache, session, security log) and exactly one
peppered Argon2id verify with the production parameters. The ratio says what
the rest costs: near 1.0, the hash is the whole bill, as it should be.
"""

import datetime as dt
import random
import time

from bench.common import bar, median_and_spread

REPEATS = 40
QUICK_REPEATS = 12
PERSONAL_CODE = "48207315"


def _member_with_account():
    from django.contrib.auth.hashers import make_password
    from django.utils import timezone

    from portail.accounts.enums import SecretQuestion, UserKind
    from portail.accounts.models import Account, User
    from portail.registry.models import Fund, Member
    from portail.registry.nir import nir_generate

    fund, _ = Fund.objects.get_or_create(code="999", defaults={"name": "Caisse de démonstration"})
    birth_date = dt.date(1981, 4, 9)
    nir = nir_generate(sex="1", birth_date=birth_date, rng=random.Random(7))
    member, _ = Member.objects.get_or_create(
        nir=nir.number,
        defaults={
            "last_name": "Benchmark",
            "first_names": "Paul",
            "birth_date": birth_date,
            "sex": "1",
            "address_line1": "1 rue de la Mesure",
            "postal_code": "75011",
            "city": "Paris",
            "fund": fund,
        },
    )
    # Every benchmark that needs a member shares this one (a full run creates it once).
    account = Account.objects.filter(member=member).select_related("user").first()
    if account is not None:
        return nir, account.user
    user = User(username="assure-bench", kind=UserKind.MEMBER)
    user.set_password(PERSONAL_CODE)
    user.save()
    Account.objects.create(
        user=user,
        member=member,
        secret_question=SecretQuestion.FIRST_PET,
        secret_answer_hash=make_password("medor"),
        terms_accepted_at=timezone.now(),
    )
    return nir, user


def run(quick: bool) -> dict:
    from django.contrib.auth.hashers import check_password
    from django.test import Client
    from django.urls import reverse

    nir, user = _member_with_account()
    repeats = QUICK_REPEATS if quick else REPEATS
    url = reverse("public:member_space")

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
        response = client.post(url, {"nir": nir.formatted, "code": PERSONAL_CODE})
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
