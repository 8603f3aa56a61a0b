"""The payments page: throughput beside a bare view, and queries for 3 and 300 payments.

Both are served in-process by Django's full handler (every middleware, the
session, the CSP header) through the test client, one request at a time. The
page shows 6 months in the detailed view for a member with a typical history
(about 10 payments a month, 2 acts each).
"""

import datetime as dt
import statistics
import sys
import time
from decimal import Decimal

from bench.bench_login import PERSONAL_CODE, _member_with_account


def _payments(member, count: int, *, prefix: str) -> None:
    from portail.benefits.enums import ActNature, Payee
    from portail.benefits.models import Payment, PaymentLine

    today = dt.date.today()
    payments = Payment.objects.bulk_create(
        Payment(
            external_id=f"{prefix}-{index}",
            member=member,
            paid_on=today - dt.timedelta(days=(index * 173) % 175),
            amount=Decimal("41.30"),
            payee=Payee.MEMBER if index % 3 else Payee.PROFESSIONAL,
        )
        for index in range(count)
    )
    PaymentLine.objects.bulk_create(
        PaymentLine(
            payment=payment,
            care_date=payment.paid_on - dt.timedelta(days=4),
            nature=ActNature.CONSULTATION if act == 0 else ActNature.PHARMACY,
            practitioner="Dr Paul Vidal" if act == 0 else "Pharmacie Centrale",
            amount_charged=Decimal("30.00"),
            base=Decimal("30.00"),
            rate=Decimal("70"),
            reimbursed=Decimal("21.00") if act == 0 else Decimal("22.30"),
            flat_fee=Decimal("2.00") if act == 0 else Decimal("0"),
        )
        for payment in payments
        for act in range(2)
    )


def _client():
    from django.test import Client

    return Client(HTTP_HOST="127.0.0.1")


def _throughput(client, url: str, seconds: float) -> tuple[float, list[float]]:
    timings = []
    deadline = time.perf_counter() + seconds
    while time.perf_counter() < deadline:
        started = time.perf_counter()
        response = client.get(url)
        timings.append(time.perf_counter() - started)
        assert response.status_code == 200, response.status_code
    return len(timings) / sum(timings), timings


def _queries(client, url: str) -> int:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from portail.operations.maintenance import maintenance_current

    # Warm up as a browsing member would be: the session's activity stamp written, the maintenance
    # lookup (cached a few seconds per process) fresh.
    client.get(url)
    maintenance_current(use_cache=False)
    with CaptureQueriesContext(connection) as captured:
        client.get(url)
    return len(captured.captured_queries)


def run(quick: bool) -> dict:
    from django.conf import settings
    from django.urls import clear_url_caches, reverse

    settings.ROOT_URLCONF = "bench.urls"
    clear_url_caches()
    nir, user = _member_with_account()
    member = user.account.member
    client = _client()
    response = client.post(reverse("public:member_space"), {"nir": nir.formatted, "code": PERSONAL_CODE})
    assert response.status_code == 302

    page = reverse("benefits:payments") + "?view=detail"
    _payments(member, 3, prefix="Q3")
    queries_3 = _queries(client, page)
    _payments(member, 297, prefix="Q300")
    queries_300 = _queries(client, page)
    from portail.benefits.models import Payment

    Payment.objects.filter(member=member).delete()
    _payments(member, 60, prefix="TYPICAL")

    seconds = 3.0 if quick else 15.0
    rounds = []
    for round_index in range(3 if quick else 5):
        bare_rate, _ = _throughput(client, reverse("bench_bare"), seconds / 2)
        page_rate, page_timings = _throughput(client, page, seconds / 2)
        rounds.append((page_rate, bare_rate, page_timings))
        print(f"\r   round {round_index + 1}: page {page_rate:.0f}/s, bare {bare_rate:.0f}/s", end="", file=sys.stderr)
    print(file=sys.stderr)
    page_rates = [r[0] for r in rounds]
    bare_rates = [r[1] for r in rounds]
    all_page_timings = sorted(t for r in rounds for t in r[2])
    return {
        "payments_page_requests_per_second": round(statistics.median(page_rates), 1),
        "payments_page_rps_min_max": f"{min(page_rates):.0f}–{max(page_rates):.0f}",
        "bare_view_requests_per_second": round(statistics.median(bare_rates), 1),
        "ratio_page_over_bare": round(statistics.median(page_rates) / statistics.median(bare_rates), 3),
        "payments_page_ms_p50": round(all_page_timings[len(all_page_timings) // 2] * 1000, 1),
        "payments_page_ms_p99": round(all_page_timings[int(len(all_page_timings) * 0.99)] * 1000, 1),
        "payments_in_page": 60,
        "queries_for_3_payments": queries_3,
        "queries_for_300_payments": queries_300,
        "target": "ratio >= 0.5; queries equal and <= 6",
    }
