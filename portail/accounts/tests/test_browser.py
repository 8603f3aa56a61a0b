"""The whole enrolment journey in a real browser, as a member walks it.

axe-core checks every page visited (portail.testing.browser). Nothing here
reads the database to cheat: the code comes from the letter's PDF in the demo
letterbox, the confirmation link from the e-mail shown there.
"""

import csv
import io
import random
import re

import pytest
from django.core.management import call_command
from playwright.sync_api import expect
from pypdf import PdfReader

from portail.registry.factories import FundFactory
from portail.registry.nir import nir_generate

PERSONAL_CODE = "48207315"
ANSWER = "Saint-Étienne"


@pytest.fixture
def imported_member(tmp_path):
    """One synthetic member, brought in by the register import like the fund's own file."""
    import datetime as dt

    FundFactory()
    birth_date = dt.date(1979, 6, 23)
    nir = nir_generate(sex="2", birth_date=birth_date, rng=random.Random(20260326))
    row = {
        "nir": nir.formatted,
        "last_name": "Garnier-Lévêque",
        "first_names": "Élodie",
        "birth_date": birth_date.isoformat(),
        "sex": "2",
        "address_line1": "12 rue des Tilleuls",
        "address_line2": "",
        "postal_code": "31000",
        "city": "Toulouse",
        "email": "",
        "doctor_name": "",
        "doctor_since": "",
        "statements_to_complementary": "0",
    }
    path = tmp_path / "register.csv"
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(row))
        writer.writeheader()
        writer.writerow(row)
    call_command("import_members", str(path), stdout=io.StringIO(), stderr=io.StringIO())
    return {**row, "nir": nir, "birth_date_fr": birth_date.strftime("%d/%m/%Y")}


class TestEnrolmentJourney:
    def test_from_code_order_to_lockout(self, page, live_url, live_server, settings, imported_member):
        settings.PORTAIL_BASE_URL = live_server.url
        visited = []
        page.on("request", lambda request: visited.append(request.url))
        member = imported_member

        # 2. Order a provisional code.
        page.goto(live_url("public:home"))
        page.get_by_role("main").get_by_role("link", name="Accéder à mon compte").click()
        page.get_by_role("link", name="Commander un code provisoire par courrier").click()
        page.get_by_label("Numéro de sécurité sociale").fill(member["nir"].formatted)
        page.get_by_role("button", name="Continuer").click()
        page.get_by_label("Nom de famille").fill("garnier leveque")
        page.get_by_label("Date de naissance").fill(member["birth_date_fr"])
        page.get_by_label("Code postal de votre domicile").fill(member["postal_code"])
        page.get_by_role("button", name="Envoyer la demande de code").click()
        expect(page.get_by_role("heading", level=1)).to_have_text("Demande enregistrée")
        expect(page.get_by_text("Dans 7 à 12 jours.")).to_be_visible()

        # 3. Read the code from the letter's PDF in the demo letterbox.
        page.get_by_role("link", name="boîte aux lettres de démonstration").click()
        expect(page.get_by_role("heading", level=1)).to_have_text("Boîte aux lettres de démonstration")
        pdf_link = page.get_by_role("link", name=re.compile("Lire le courrier")).first
        pdf = page.request.get(live_server.url + pdf_link.get_attribute("href"))
        text = PdfReader(io.BytesIO(pdf.body())).pages[0].extract_text()
        assert "Toulouse".upper() in text.upper() and "31000" in text
        code = re.search(r"\b(\d{4}) (\d{4})\b", text).group(0).replace(" ", "")

        # 4. First login, terms, codes and question, e-mail.
        page.get_by_role("banner").get_by_role("link", name="Mon compte").click()
        page.get_by_label("Numéro de sécurité sociale").fill(member["nir"].number)
        page.get_by_label("Code personnel ou code provisoire").fill(code)
        page.get_by_role("button", name="Se connecter").click()
        expect(page.get_by_text("Création du compte – étape 1 sur 3")).to_be_visible()
        page.get_by_label("Oui, j'accepte les conditions d'utilisation").check()
        page.get_by_role("button", name="Continuer").click()
        expect(page.get_by_text("Création du compte – étape 2 sur 3")).to_be_visible()
        page.get_by_label("Code provisoire reçu par courrier").fill(code)
        page.get_by_label("Nouveau code personnel", exact=True).fill("11111111")
        page.get_by_label("Confirmez le nouveau code personnel").fill("11111111")
        page.get_by_label("Question secrète").select_option(
            label="Dans quelle ville avez-vous eu votre premier emploi ?"
        )
        page.get_by_label("Votre réponse", exact=True).fill(ANSWER)
        page.get_by_label("Confirmez votre réponse").fill("saint etienne")
        page.get_by_role("button", name="Créer mon compte").click()
        # A trivial code is refused with its reason, tied to its field; the question stays chosen.
        expect(page.get_by_role("alert")).to_contain_text("un seul chiffre répété")
        expect(page.get_by_label("Nouveau code personnel", exact=True)).to_have_attribute(
            "aria-describedby", re.compile("id_personal_code_error")
        )
        expect(page.get_by_label("Question secrète")).to_have_value("first_job_city")
        page.get_by_label("Code provisoire reçu par courrier").fill(code)
        page.get_by_label("Nouveau code personnel", exact=True).fill(PERSONAL_CODE)
        page.get_by_label("Confirmez le nouveau code personnel").fill(PERSONAL_CODE)
        page.get_by_label("Votre réponse", exact=True).fill(ANSWER)
        page.get_by_label("Confirmez votre réponse").fill("saint etienne")
        page.get_by_role("button", name="Créer mon compte").click()
        expect(page.get_by_text("Création du compte – étape 3 sur 3")).to_be_visible()
        page.get_by_role("textbox", name="Adresse e-mail").fill("elodie@example.org")
        page.get_by_role("button", name="Envoyer le lien de confirmation").click()
        expect(page.get_by_role("heading", level=1)).to_have_text("Confirmez votre adresse e-mail")

        # 5. Open the verification link from the letterbox.
        page.get_by_role("link", name="boîte aux lettres de démonstration").click()
        confirm = page.locator("a[href*='/mon-compte/e-mail/confirmer/']").first
        confirm.click()
        expect(page.get_by_role("heading", level=1)).to_have_text("Adresse e-mail confirmée")

        # 6. Log out, then log in.
        page.get_by_role("link", name="Aller à mon compte").click()
        expect(page.get_by_role("heading", level=1)).to_have_text("Bonjour Élodie Garnier-Lévêque")
        page.get_by_role("button", name="Se déconnecter").click()
        expect(page.get_by_role("heading", level=1)).to_have_text("Vous êtes déconnecté")
        page.get_by_role("link", name="Se reconnecter").click()
        page.get_by_label("Numéro de sécurité sociale").fill(member["nir"].formatted)
        page.get_by_label("Code personnel ou code provisoire").fill(PERSONAL_CODE)
        page.get_by_role("button", name="Se connecter").click()
        expect(page.get_by_role("heading", level=1)).to_have_text("Bonjour Élodie Garnier-Lévêque")
        page.get_by_role("button", name="Se déconnecter").click()

        # 7. Three wrong codes, then the lock message with its end time.
        page.get_by_role("link", name="Se reconnecter").click()
        for attempt in range(3):
            page.get_by_label("Numéro de sécurité sociale").fill(member["nir"].number)
            page.get_by_label("Code personnel ou code provisoire").fill("90817263")
            page.get_by_role("button", name="Se connecter").click()
            if attempt < 2:
                tries_left = "encore 2 essais avant" if attempt == 0 else "encore 1 essai avant"
                expect(page.get_by_role("alert")).to_contain_text(tries_left)
        expect(page.get_by_role("heading", level=1)).to_have_text("Compte bloqué temporairement")
        expect(page.get_by_text(re.compile(r"bloqué jusqu'au \d{2}/\d{2}/\d{4} à \d{2}:\d{2}"))).to_be_visible()
        expect(
            page.get_by_role("link", name="recevoir un lien par e-mail pour choisir un nouveau code")
        ).to_be_visible()

        # No NIR, code or answer in any URL the browser asked for.
        secrets = [member["nir"].number, code, PERSONAL_CODE, "Saint", "etienne"]
        for url in visited:
            for secret in secrets:
                assert secret not in url, f"{secret!r} in {url}"
