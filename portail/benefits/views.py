import datetime as dt
from decimal import Decimal

from django import forms
from django.conf import settings
from django.db import transaction
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from portail.accounts.decorators import member_view
from portail.benefits.enums import Payee
from portail.benefits.models import Payment, months_before
from portail.benefits.selectors import PagePayment, page_payments, payment_summary_rows, payment_tables
from portail.benefits.statements import month_label
from portail.forms import PortailForm

SUMMARY, DETAILED = "resume", "detail"
MYSELF = "assure"


def _next_month(month: dt.date) -> dt.date:
    return months_before(month, -1)


class PaymentFilterForm(PortailForm):
    """The filters of the payments page (GET): whose care, which months, which view."""

    memoize_rendering = True  # 50 options: the same markup for most members, month after month

    beneficiary = forms.ChoiceField(label=_("Soins de"), required=False)
    start = forms.ChoiceField(label=_("Du mois de"), required=False)
    end = forms.ChoiceField(label=_("Au mois de (inclus)"), required=False)
    view = forms.ChoiceField(
        label=_("Affichage"),
        required=False,
        choices=[(SUMMARY, _("Résumé : une ligne par paiement")), (DETAILED, _("Détail : chaque acte"))],
        widget=forms.HiddenInput,
    )

    def __init__(self, data, *, member, today: dt.date):
        # The months shown are the months used: with no choice made, the lists show the default period.
        self.default_start = months_before(today, settings.PORTAIL_PAYMENTS_DEFAULT_MONTHS - 1)
        data = data.copy()
        if not data.get("start"):
            data["start"] = self.default_start.strftime("%Y-%m")
        if not data.get("end"):
            data["end"] = today.strftime("%Y-%m")
        super().__init__(data)
        self.today = today
        months = [months_before(today, index) for index in range(settings.PORTAIL_STATEMENTS_KEEP_MONTHS)]
        month_choices = [(month.strftime("%Y-%m"), month_label(month)) for month in months]
        self.fields["start"].choices = month_choices
        self.fields["end"].choices = month_choices
        self.fields["beneficiary"].choices = [
            ("", _("Toutes les personnes")),
            (MYSELF, _("Vous-même")),
            *[(str(b.pk), f"{b.first_names} {b.last_name}") for b in member.beneficiaries.order_by("birth_date")],
        ]

    def clean(self):
        cleaned = super().clean()
        start = dt.date.fromisoformat(cleaned["start"] + "-01") if cleaned.get("start") else self.default_start
        end = dt.date.fromisoformat(cleaned["end"] + "-01") if cleaned.get("end") else self.today.replace(day=1)
        if start > end:
            self.add_error("end", _("Le mois de fin doit être le même que le mois de début, ou après."))
        cleaned["start_month"], cleaned["end_month"] = start, end
        cleaned["view"] = cleaned.get("view") or SUMMARY
        return cleaned


@transaction.non_atomic_requests
@member_view
def payments_view(request):
    """The last 6 months by default; an invalid filter (say, someone else's
    beneficiary) shows its error and no payment at all. Read-only: no transaction around it."""
    form = PaymentFilterForm(request.GET, member=request.member, today=timezone.localdate())
    payments = []
    if form.is_valid():
        criteria = form.cleaned_data
        query = Payment.objects.for_member(request.member).filter(
            paid_on__gte=criteria["start_month"], paid_on__lt=_next_month(criteria["end_month"])
        )
        if criteria["beneficiary"] == MYSELF:
            query = query.filter(beneficiary__isnull=True)
        elif criteria["beneficiary"]:
            query = query.filter(beneficiary_id=criteria["beneficiary"])
        payments = page_payments(query)
    return render(request, "benefits/payments.html", {"form": form, **_summary(payments, form)})


def _summary(payments: list[PagePayment], form: PaymentFilterForm) -> dict:
    criteria = getattr(form, "cleaned_data", {})
    to_member = sum((p.amount for p in payments if p.payee == Payee.MEMBER), Decimal("0"))
    to_professionals = sum((p.amount for p in payments if p.payee == Payee.PROFESSIONAL), Decimal("0"))
    detailed = criteria.get("view") == DETAILED
    return {
        "payments": payment_tables(payments) if detailed else payment_summary_rows(payments),
        "payment_count": len(payments),
        "detailed": detailed,
        "start_label": month_label(criteria["start_month"]) if "start_month" in criteria else "",
        "end_label": month_label(criteria["end_month"]) if "end_month" in criteria else "",
        "total_to_member": to_member,
        "total_to_professionals": to_professionals,
        "total": to_member + to_professionals,
    }


@member_view
def doctor_view(request):
    return render(request, "benefits/doctor.html", {"member": request.member})
