"""What the benchmarks share: figures (median and spread), progress bars, the process-wide settings."""

import datetime as dt
import random
import statistics
import sys

from tqdm import tqdm


def median_and_spread(samples: list[float]) -> tuple[float, float]:
    """The median, and the p10–p90 spread (the width of the middle 80 % of the samples), interpolated: with
    three samples it still spans them, where picking ranks would give the median minus the lowest."""
    if len(samples) < 2:
        return statistics.median(samples), 0.0
    deciles = statistics.quantiles(samples, n=10, method="inclusive")
    return statistics.median(samples), deciles[-1] - deciles[0]


def percentile(samples: list[float], fraction: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(len(ordered) * fraction))]


def bar(total: float, description: str, unit: str = "it", file=None) -> tqdm:
    """A progress bar on stderr (the figures go to stdout), or on `file`."""
    return tqdm(
        total=total,
        desc=f"   {description}",
        unit=unit,
        file=file or sys.stderr,
        leave=False,
        dynamic_ncols=True,
        mininterval=1.0,
    )


def tqdm_range(count: int, description: str):
    """range(count) with a progress bar."""
    with bar(count, description) as progress:
        for index in range(count):
            yield index
            progress.update(1)


PERSONAL_CODE = "48207315"


def bench_member():
    """The member every page benchmark logs in as (NIR, user), with an account whose code is PERSONAL_CODE."""
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
