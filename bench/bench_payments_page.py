"""Figures 1 and 2: the payments page's throughput beside a bare member view, and its queries for 3 and 300 payments.

Throughput is measured as a browser sees it: gunicorn (one sync worker) on production settings, a fresh
connection per request, the member logged in. The page shows 6 months in the detailed view for a member with
a typical history (60 payments, 2 acts each); the reference is bench/urls.py's bare member view, which goes
through the same middleware, session and account checks and answers "ok". Rounds alternate the two so that
a busy machine slows both alike.

Queries are counted in-process (Django's test client and CaptureQueriesContext), after a warm-up request.
"""

import datetime as dt
import statistics
import time
from decimal import Decimal
from pathlib import Path

from bench.common import PERSONAL_CODE, bar, bench_member, percentile
from bench.server import PortalServer, Visitor


def payments_for(member, count: int, *, prefix: str) -> None:
    """`count` payments of 2 acts each, spread over the page's default months: all of them on the page, whatever
    the day of the month."""
    from django.conf import settings

    from portail.benefits.enums import ActNature, Payee
    from portail.benefits.models import Payment, PaymentLine, months_before

    today = dt.date.today()
    span = (today - months_before(today, settings.PORTAIL_PAYMENTS_DEFAULT_MONTHS - 1)).days + 1
    payments = Payment.objects.bulk_create(
        Payment(
            external_id=f"{prefix}-{index}",
            member=member,
            paid_on=today - dt.timedelta(days=index * span // count),
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


def _queries(client, url: str) -> int:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from portail.operations.maintenance import maintenance_current

    # Warm up as a browsing member would be: the session's activity stamp written, the maintenance
    # lookup (cached a few seconds per process) fresh.
    client.get(url)
    maintenance_current(use_cache=False)
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200, response.status_code
    return len(captured.captured_queries)


def _rate(visitor: Visitor, path: str, seconds: float) -> tuple[float, list[float]]:
    timings = []
    deadline = time.perf_counter() + seconds
    while time.perf_counter() < deadline:
        timings.append(visitor.timed_get(path))
    return len(timings) / sum(timings), timings


def run(quick: bool, *, database_url: str, var_dir: Path) -> dict:
    from django.db import connection
    from django.test import Client
    from django.urls import reverse

    from portail.benefits.models import Payment

    nir, user = bench_member()
    member = user.account.member
    page = reverse("benefits:payments") + "?view=detail"

    client = Client(HTTP_HOST="127.0.0.1")
    assert (
        client.post(reverse("public:member_space"), {"nir": nir.formatted, "code": PERSONAL_CODE}).status_code == 302
    )
    Payment.objects.filter(member=member).delete()
    payments_for(member, 3, prefix="Q3")
    queries_3 = _queries(client, page)
    payments_for(member, 297, prefix="Q300")
    queries_300 = _queries(client, page)
    Payment.objects.filter(member=member).delete()
    payments_for(member, 60, prefix="TYPICAL")
    if connection.vendor == "postgresql":
        # After the earlier benchmarks' bulk loads, fresh statistics, as autovacuum would soon give them:
        # the plans are then those of a database in service.
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE")

    seconds, rounds = (4.0, 3) if quick else (20.0, 5)
    page_rates, bare_rates, page_timings = [], [], []
    with PortalServer(database_url=database_url, var_dir=var_dir) as server:
        visitor = Visitor(server)
        visitor.login(login_path=reverse("public:member_space"), nir=nir.formatted, code=PERSONAL_CODE)
        bare = reverse("bench_bare_member")
        for path in (bare, page):  # warm-up: code paths, caches, the session's activity stamp
            for _ in range(20):
                visitor.timed_get(path)
        with bar(rounds * 2, "rounds of bare member view, then payments page") as progress:
            for _ in range(rounds):
                bare_rate, _ = _rate(visitor, bare, seconds / 2)
                progress.update(1)
                page_rate, timings = _rate(visitor, page, seconds / 2)
                progress.update(1)
                progress.set_postfix_str(f"page {page_rate:.0f}/s, bare {bare_rate:.0f}/s")
                bare_rates.append(bare_rate)
                page_rates.append(page_rate)
                page_timings += timings
    page_rate, bare_rate = statistics.median(page_rates), statistics.median(bare_rates)
    return {
        "payments_page_requests_per_second": round(page_rate, 1),
        "payments_page_rps_min_max": f"{min(page_rates):.0f}–{max(page_rates):.0f}",
        "bare_member_view_requests_per_second": round(bare_rate, 1),
        "bare_member_view_rps_min_max": f"{min(bare_rates):.0f}–{max(bare_rates):.0f}",
        "ratio_page_over_bare": round(page_rate / bare_rate, 3),
        "payments_page_ms_p50": round(percentile(page_timings, 0.5) * 1000, 1),
        "payments_page_ms_p99": round(percentile(page_timings, 0.99) * 1000, 1),
        "payments_in_page": 60,
        "server": "gunicorn, 1 sync worker, production settings",
        "queries_for_3_payments": queries_3,
        "queries_for_300_payments": queries_300,
        "target": "ratio >= 0.5; queries equal and <= 6",
    }
