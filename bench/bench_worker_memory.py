"""Figure 7: a web worker's memory after 10,000 requests beside after 100, and its absolute size.

One gunicorn sync worker on production settings serves a logged-in member's browsing, round after round:
the payments page in both views over changing periods (each a new filter form and a new month range),
the account's home, the statements, the doctor, the messages, the public home page, and the bare views.
The worker's resident memory (VmRSS) is read after the first 100 requests, then every 500 (their spread
says whether it settles or climbs), and at the end. No growth means
the per-process caches (templates, rendered filter forms, formatted amounts) stay bounded. The quick run
stops at 2,000 requests.
"""

import datetime as dt
from pathlib import Path

from bench.bench_payments_page import payments_for
from bench.common import PERSONAL_CODE, bar, bench_member
from bench.server import PortalServer, Visitor


def _paths() -> list[str]:
    """One round of browsing: 48 different addresses."""
    from django.urls import reverse

    from portail.benefits.models import months_before

    today = dt.date.today()
    payments = reverse("benefits:payments")
    paths = [
        reverse("accounts:home"),
        reverse("benefits:statements"),
        reverse("benefits:doctor"),
        reverse("messaging:threads"),
        reverse("public:home"),
        reverse("bench_bare"),
        reverse("bench_bare_member"),
        payments,
    ]
    for months in range(20):
        start = months_before(today, months + 3).strftime("%Y-%m")
        end = months_before(today, months).strftime("%Y-%m")
        view = "detail" if months % 2 else "resume"
        paths.append(f"{payments}?start={start}&end={end}&view={view}")
        paths.append(f"{payments}?start={start}&view=detail")
    return paths


def run(quick: bool, *, database_url: str, var_dir: Path) -> dict:
    from django.urls import reverse

    from portail.benefits.models import Payment

    nir, user = bench_member()
    member = user.account.member
    if not Payment.objects.filter(member=member).exists():
        payments_for(member, 60, prefix="MEMORY")
    total = 2_000 if quick else 10_000
    paths = _paths()
    with PortalServer(database_url=database_url, var_dir=var_dir) as server:
        visitor = Visitor(server)
        visitor.login(login_path=reverse("public:member_space"), nir=nir.formatted, code=PERSONAL_CODE)
        served = 0
        after_100 = None
        samples = []
        with bar(total, "member browsing through one worker", unit="req") as progress:
            while served < total:
                visitor.timed_get(paths[served % len(paths)])
                served += 1
                progress.update(1)
                if served == 100:
                    after_100 = server.worker_rss_mib()
                if served > 100 and served % 500 == 0:
                    samples.append(server.worker_rss_mib())
        after_total = server.worker_rss_mib()
    return {
        "requests": total,
        "addresses_in_rotation": len(paths),
        "rss_mib_after_100": round(after_100, 1),
        f"rss_mib_after_{total}": round(after_total, 1),
        "ratio_after_total_over_after_100": round(after_total / after_100, 3),
        "rss_mib_every_500_requests_min_max": f"{min(samples):.1f}–{max(samples):.1f}",
        "target": "ratio <= 1.1; size <= 150 MiB",
    }
