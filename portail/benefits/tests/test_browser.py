"""Member services in a real browser (axe-core checks every page visited).

Log in, see a payment pushed through the API, switch between summary and
detail, read a statement in HTML, download its PDF and compare, ask for a paper
duplicate and find the letter in the demo letterbox, then close the account.
"""

import datetime as dt
import io
import json
import re
from decimal import Decimal

from django.urls import reverse
from django.utils import timezone
from playwright.sync_api import expect
from pypdf import PdfReader

from portail.accounts.tests.test_services import PERSONAL_CODE, create_account
from portail.benefits.factories import PaymentFactory, PaymentLineFactory, StatementFactory
from portail.benefits.feed import feed_source_create
from portail.benefits.models import months_before
from portail.registry.factories import MemberFactory


def last_month() -> dt.date:
    return months_before(timezone.localdate(), 1)


class TestMemberServices:
    def test_payments_statement_duplicate_then_termination(self, page, live_url, live_server, settings):
        settings.PORTAIL_BASE_URL = live_server.url
        member = MemberFactory(first_names="Nadia", last_name="Roussel", postal_code="44000", city="Nantes")
        create_account(member)
        # Last month's statement, with one payment of two acts.
        month = last_month()
        paid = PaymentFactory(member=member, paid_on=month + dt.timedelta(days=9), amount=Decimal("41.30"), lines=0)
        PaymentLineFactory(payment=paid, practitioner="Dr Paul Vidal", reimbursed=Decimal("21.00"))
        PaymentLineFactory(payment=paid, practitioner="Pharmacie Centrale", reimbursed=Decimal("24.30"))
        StatementFactory(member=member, month=month, payment_count=1, total_paid=Decimal("41.30"))

        page.goto(live_url("public:member_space"))
        page.get_by_label("Numéro de sécurité sociale").fill(member.nir)
        page.get_by_label("Code personnel ou code provisoire").fill(PERSONAL_CODE)
        page.get_by_role("button", name="Se connecter").click()
        page.get_by_role("navigation", name="Mon compte").get_by_role("link", name="Mes paiements").click()
        expect(page.get_by_text("41,30\u00a0€").first).to_be_visible()

        # The claims system pushes a payment; the next load shows it.
        _, token = feed_source_create(name="Système de liquidation")
        today = timezone.localdate()
        pushed = {
            "id": "LIQ-2026-000123",
            "nir": member.nir,
            "beneficiary": None,
            "paid_on": today.isoformat(),
            "amount": "17.50",
            "payee": "member",
            "lines": [
                {
                    "care_date": (today - dt.timedelta(days=2)).isoformat(),
                    "nature": "consultation",
                    "practitioner": "Dr Claire Lemoine",
                    "amount_charged": "30.00",
                    "base": "30.00",
                    "rate": "65",
                    "reimbursed": "19.50",
                    "flat_fee": "2.00",
                    "deductible": "0.00",
                }
            ],
        }
        answer = page.request.post(
            live_url("benefits_api:push"),
            data=json.dumps(pushed),
            headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
        )
        assert answer.status == 202, answer.text()
        page.reload()
        expect(page.get_by_text("17,50\u00a0€").first).to_be_visible()

        page.get_by_role("link", name="Voir le détail de chaque acte").click()
        expect(page.get_by_role("cell", name="Dr Claire Lemoine")).to_be_visible()
        expect(page.get_by_role("cell", name="Pharmacie Centrale")).to_be_visible()
        page.get_by_role("link", name=re.compile("Voir le résumé")).click()
        expect(page.get_by_role("cell", name="Dr Claire Lemoine")).to_have_count(0)

        # The statement, in HTML, then its PDF: the same amounts and dates.
        page.get_by_role("navigation", name="Mon compte").get_by_role("link", name="Mes relevés").click()
        page.get_by_role("link", name=re.compile("Lire le relevé")).first.click()
        html = page.get_by_role("main").inner_text()
        pdf_link = page.get_by_role("link", name=re.compile("Télécharger"))
        pdf = page.request.get(live_server.url + pdf_link.first.get_attribute("href"))
        assert pdf.headers["content-type"] == "application/pdf"
        text = " ".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf.body())).pages)
        figures = set(re.findall(r"\d[\d\u00a0\u202f ]*,\d\d\u00a0€|\d{2}/\d{2}/\d{4}", html))
        assert figures, "the statement page shows amounts and dates"
        normalise = lambda value: re.sub(r"[\s\u00a0\u202f]", "", value)  # noqa: E731
        assert {normalise(f) for f in figures} <= {normalise(f) for f in re.findall(r"\S+", text)} | {
            normalise(m) for m in re.findall(r"\d[\d\s\u00a0\u202f]*,\d\d\s?€|\d{2}/\d{2}/\d{4}", text)
        }

        # A paper duplicate, then the letter in the demo letterbox.
        page.get_by_role("button", name=re.compile("duplicata", re.IGNORECASE)).click()
        expect(page.get_by_role("status")).to_contain_text("7 à 12 jours")
        page.get_by_role("link", name="boîte aux lettres de démonstration").click()
        expect(page.get_by_text(re.compile("Duplicata", re.IGNORECASE)).first).to_be_visible()
        letter = page.get_by_role("link", name=re.compile("Lire le courrier")).first
        letter_pdf = page.request.get(live_server.url + letter.get_attribute("href"))
        letter_text = PdfReader(io.BytesIO(letter_pdf.body())).pages[0].extract_text()
        assert "NANTES" in letter_text.upper() and "44000" in letter_text

        # Termination.
        page.goto(live_url("accounts:profile"))
        page.get_by_role("link", name="Résilier mon compte en ligne").click()
        page.get_by_label("Votre code personnel actuel").fill(PERSONAL_CODE)
        page.get_by_role("button", name="Résilier mon compte").click()
        expect(page.get_by_role("heading", level=1)).to_have_text("Votre compte est résilié")
        page.goto(live_url("benefits:payments"))
        expect(page).to_have_url(re.compile(re.escape(reverse("public:member_space"))))
