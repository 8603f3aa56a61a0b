import datetime
import json
import random
from decimal import Decimal

import msgspec
import pytest
from django.core.management import CommandError, call_command
from django.db import DatabaseError, IntegrityError, connection
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from portail.benefits import feed
from portail.benefits.enums import ActNature, Payee
from portail.benefits.factories import PaymentFactory
from portail.benefits.feed import PaymentRejected, payment_parse, payments_import
from portail.benefits.models import Payment, PaymentImportRun, PaymentLine
from portail.registry.enums import Sex
from portail.registry.factories import BeneficiaryFactory, MemberFactory
from portail.registry.nir import nir_generate

TODAY = datetime.date(2025, 3, 1)
NIR = nir_generate(sex=Sex.FEMALE, birth_date=datetime.date(1985, 3, 14), rng=random.Random(7), department="69")


def act(**overrides) -> dict:
    """A valid act: reimbursed 21.00 minus a 2.00 flat fee, so 19.00 paid."""
    return {
        "care_date": "2025-02-03",
        "nature": "consultation",
        "practitioner": "Dr Claire Martin",
        "amount_charged": "30.00",
        "base": "30.00",
        "rate": "70",
        "reimbursed": "21.00",
        "flat_fee": "2.00",
        "deductible": "0",
    } | overrides


def payment(nir: str = NIR.with_key, **overrides) -> dict:
    return {
        "id": "PAY-1",
        "nir": nir,
        "beneficiary": None,
        "paid_on": "2025-02-10",
        "amount": "19.00",
        "payee": "member",
        "lines": [act()],
    } | overrides


def dumps(data) -> str:
    return json.dumps(data, ensure_ascii=False)


def reasons_of(text: str) -> list[str]:
    with pytest.raises(PaymentRejected) as rejected:
        payment_parse(text=text, today=TODAY)
    return rejected.value.reasons


def without(data: dict, key: str) -> dict:
    return {name: value for name, value in data.items() if name != key}


class TestPaymentParse:
    def test_valid_payment(self):
        parsed = payment_parse(text=dumps(payment()), today=TODAY)
        assert parsed.external_id == "PAY-1"
        assert parsed.nir.number == NIR.number
        assert (parsed.beneficiary, parsed.paid_on, parsed.amount, parsed.payee) == (
            None,
            datetime.date(2025, 2, 10),
            Decimal("19.00"),
            Payee.MEMBER,
        )
        (line,) = parsed.acts
        assert line == feed.ActData(
            care_date=datetime.date(2025, 2, 3),
            nature=ActNature.CONSULTATION,
            practitioner="Dr Claire Martin",
            amount_charged=Decimal("30.00"),
            base=Decimal("30.00"),
            rate=Decimal("70.00"),
            reimbursed=Decimal("21.00"),
            flat_fee=Decimal("2.00"),
            deductible=Decimal("0.00"),
        )

    @pytest.mark.parametrize(
        "text",
        [
            # Amounts as JSON numbers (read as decimals, never floats), or strings.
            '{"id": "P", "nir": "' + NIR.with_key + '", "paid_on": "2025-02-10", "amount": 19, "payee": "member", '
            '"lines": [{"care_date": "2025-02-03", "nature": "pharmacy", "practitioner": "", "amount_charged": 30.1, '
            '"base": 30.10, "rate": 65.5, "reimbursed": 19.0}]}',
            dumps(payment(nir=NIR.formatted)),
            dumps(payment(nir=NIR.number)),
            dumps(without(payment(), "beneficiary")),
            dumps(
                payment(
                    lines=[
                        act(flat_fee="0", reimbursed="12.50"),
                        act(nature="pharmacy", reimbursed="6.50", flat_fee="0"),
                    ]
                )
            ),
            "  " + dumps(payment()) + "\r\n",
        ],
    )
    def test_accepted_forms(self, text):
        parsed = payment_parse(text=text, today=TODAY)
        assert parsed.nir.number == NIR.number
        assert sum(line.reimbursed - line.flat_fee - line.deductible for line in parsed.acts) == parsed.amount

    def test_defaults_and_beneficiary(self):
        child = {"last_name": "Lefèvre", "first_names": "Léa", "birth_date": "2015-06-01"}
        parsed = payment_parse(
            text=dumps(
                payment(beneficiary=child, amount="21", lines=[without(without(act(), "flat_fee"), "deductible")])
            ),
            today=TODAY,
        )
        assert (parsed.acts[0].flat_fee, parsed.acts[0].deductible) == (Decimal("0.00"), Decimal("0.00"))
        assert parsed.beneficiary == feed.BeneficiaryRef("Lefèvre", "Léa", datetime.date(2015, 6, 1))

    @pytest.mark.parametrize(
        ("text", "reason"),
        [
            ("{", "JSON illisible (caractère 2) : un objet JSON par ligne est attendu"),
            ('{"id": "P"} x', "JSON illisible (caractère 13) : un objet JSON par ligne est attendu"),
            ('{"amount": NaN}', "JSON illisible : un objet JSON par ligne est attendu"),
            ("[" * 100_000, "JSON illisible : un objet JSON par ligne est attendu"),
            ("[1, 2]", "objet JSON {…} attendu, pas « [1, 2] »"),
            ('"PAY-1"', "objet JSON {…} attendu, pas « PAY-1 »"),
            ("\udcff" + dumps(payment()), "caractères qui ne sont pas en UTF-8 (enregistrez le fichier en UTF-8)"),
        ],
    )
    def test_unreadable_line(self, text, reason):
        assert reasons_of(text) == [reason]

    @pytest.mark.parametrize(
        ("data", "reason"),
        [
            (without(payment(), "id"), "champ « id » absent (référence du paiement)"),
            (payment(id=""), "référence du paiement vide (champ « id »)"),
            (payment(id="  "), "référence du paiement vide (champ « id »)"),
            (payment(id=12), "référence du paiement « 12 » invalide : texte attendu"),
            (payment(id="P" * 65), "référence du paiement : 65 caractères, 64 au plus"),
            (payment(id="P\x00"), "référence du paiement : caractères de contrôle ou invalides"),
            (payment(id="P\ud800"), "référence du paiement : caractères de contrôle ou invalides"),
            (without(payment(), "nir"), "champ « nir » absent (NIR)"),
            (
                payment(nir="2 85 03"),
                "NIR invalide : Vous avez saisi 5 caractères (sans compter les espaces) : le numéro en compte 13, "
                "ou 15 avec la clé.",
            ),
            (
                payment(nir=NIR.number + ("00" if NIR.key != "00" else "01")),
                "NIR invalide : La clé (2 derniers chiffres) ne correspond pas au numéro : vérifiez chaque chiffre.",
            ),
            (payment(nir=int(NIR.with_key)), "NIR invalide : texte entre guillemets attendu"),
            (
                payment(beneficiary="Léa"),
                "bénéficiaire des soins « Léa » invalide : null ou objet {last_name, first_names, birth_date} attendu",
            ),
            (
                payment(beneficiary={"last_name": "Lefèvre", "first_names": "Léa", "birth_date": "01/06/2015"}),
                "bénéficiaire des soins : date de naissance « 01/06/2015 » invalide, format attendu AAAA-MM-JJ",
            ),
            (
                payment(beneficiary={"last_name": "Lefèvre", "birth_date": "2015-06-01"}),
                "bénéficiaire des soins : champ « first_names » absent (prénoms)",
            ),
            (without(payment(), "paid_on"), "champ « paid_on » absent (date du paiement)"),
            (payment(paid_on="10/02/2025"), "date du paiement « 10/02/2025 » invalide, format attendu AAAA-MM-JJ"),
            (payment(paid_on="2025-02-30"), "date du paiement « 2025-02-30 » invalide, format attendu AAAA-MM-JJ"),
            (
                payment(paid_on="２０２５-02-10"),
                "date du paiement « ２０２５-02-10 » invalide, format attendu AAAA-MM-JJ",
            ),
            (payment(paid_on=20250210), "date du paiement « 20250210 » invalide, format attendu AAAA-MM-JJ"),
            (without(payment(), "amount"), "champ « amount » absent (montant)"),
            (payment(amount="12,3x"), "montant « 12,3x » invalide, nombre attendu avec un point décimal"),
            (payment(amount="19,00"), "montant « 19,00 » invalide, nombre attendu avec un point décimal"),
            (payment(amount="1e3"), "montant « 1e3 » invalide, nombre attendu avec un point décimal"),
            (payment(amount=" 19.00"), "montant «  19.00 » invalide, nombre attendu avec un point décimal"),
            (payment(amount=True), "montant « true » invalide, nombre attendu avec un point décimal"),
            (payment(amount=None), "montant « null » invalide, nombre attendu avec un point décimal"),
            (payment(amount="-1.00"), "montant « -1.00 » invalide : nombre positif ou nul attendu"),
            (payment(amount="19.001"), "montant « 19.001 » invalide : 2 décimales au plus"),
            (payment(amount="100000000"), "montant « 100000000 » invalide : 99999999.99 au plus"),
            (
                payment(amount="18.99"),
                "montant 18.99 différent du total des actes (montants remboursés moins participations forfaitaires "
                "et franchises) : 19.00",
            ),
            (
                payment(amount="21.00"),
                "montant 21.00 différent du total des actes (montants remboursés moins participations forfaitaires "
                "et franchises) : 19.00",
            ),
            (without(payment(), "payee"), "champ « payee » absent (versé à)"),
            (payment(payee="assure"), "versé à « assure » invalide, valeurs possibles : member, professional"),
            (payment(payee="MEMBER"), "versé à « MEMBER » invalide, valeurs possibles : member, professional"),
            (without(payment(), "lines"), "champ « lines » absent (actes)"),
            (payment(lines=[]), "actes (champ « lines ») : liste d'au moins un acte attendue"),
            (
                payment(lines={"care_date": "2025-02-03"}),
                "actes (champ « lines ») : liste d'au moins un acte attendue",
            ),
            (payment(lines=[act()] * 501), "actes : 501 actes, 500 au plus par paiement"),
            (payment(lines=[3]), "acte 1 : objet JSON attendu, pas « 3 »"),
            (payment(lines=[without(act(), "base")]), "acte 1 : champ « base » absent (base de remboursement)"),
            (
                payment(lines=[act(care_date="2025-02-11")]),
                "acte 1 : date des soins « 2025-02-11 » postérieure à la date du paiement",
            ),
            (
                payment(lines=[act(care_date="2025-2-3")]),
                "acte 1 : date des soins « 2025-2-3 » invalide, format attendu AAAA-MM-JJ",
            ),
            (
                payment(lines=[act(nature="xray")]),
                "acte 1 : nature « xray » invalide, valeurs possibles : " + ", ".join(ActNature.values),
            ),
            (
                payment(lines=[act(practitioner=None)]),
                "acte 1 : professionnel de santé « null » invalide : texte attendu",
            ),
            (
                payment(lines=[act(practitioner="x" * 151)]),
                "acte 1 : professionnel de santé : 151 caractères, 150 au plus",
            ),
            (
                payment(lines=[act(amount_charged="30.0.0")]),
                "acte 1 : montant payé « 30.0.0 » invalide, nombre attendu avec un point décimal",
            ),
            (
                payment(lines=[act(base="-30")]),
                "acte 1 : base de remboursement « -30 » invalide : nombre positif ou nul attendu",
            ),
            (
                payment(lines=[act(rate="120")]),
                "acte 1 : taux « 120 » invalide : pourcentage de 0 à 100 attendu, 2 décimales au plus",
            ),
            (
                payment(lines=[act(rate="-1")]),
                "acte 1 : taux « -1 » invalide : pourcentage de 0 à 100 attendu, 2 décimales au plus",
            ),
            (
                payment(lines=[act(rate="33.333")]),
                "acte 1 : taux « 33.333 » invalide : pourcentage de 0 à 100 attendu, 2 décimales au plus",
            ),
            (
                payment(lines=[act(reimbursed="21.005")]),
                "acte 1 : montant remboursé « 21.005 » invalide : 2 décimales au plus",
            ),
            (
                payment(lines=[act(flat_fee="1000000")]),
                "acte 1 : participation forfaitaire « 1000000 » invalide : 999999.99 au plus",
            ),
            (
                payment(lines=[act(), act(deductible="x")]),
                "acte 2 : franchise « x » invalide, nombre attendu avec un point décimal",
            ),
        ],
    )
    def test_rejection_reason(self, data, reason):
        assert reasons_of(dumps(data)) == [reason]

    def test_future_dates(self):
        assert reasons_of(dumps(payment(paid_on="2025-03-02", lines=[act(care_date="2025-03-02")]))) == [
            "date du paiement « 2025-03-02 » dans le futur",
            "acte 1 : date des soins « 2025-03-02 » dans le futur",
        ]

    def test_every_reason_of_a_line_is_given(self):
        assert reasons_of(dumps(payment(id="", payee="x", lines=[act(nature="x")]))) == [
            "référence du paiement vide (champ « id »)",
            "versé à « x » invalide, valeurs possibles : member, professional",
            "acte 1 : nature « x » invalide, valeurs possibles : " + ", ".join(ActNature.values),
        ]

    def test_reasons_are_capped(self):
        reasons = reasons_of(dumps(payment(lines=[act(nature="x")] * 12)))
        assert len(reasons) == feed.REASONS_PER_LINE_MAX + 1
        assert reasons[-1] == "et 2 autres problèmes"

    def test_long_values_are_shortened_in_messages(self):
        (reason,) = reasons_of(dumps(payment(payee="y" * 100)))
        assert reason.startswith("versé à « " + "y" * 39 + "… » invalide")

    def test_the_nir_is_never_quoted(self):
        for data in (payment(nir=int(NIR.with_key)), payment(nir=NIR.number + "99")):
            for reason in reasons_of(dumps(data)):
                assert NIR.number not in reason


# Outside input for the randomised tests: any JSON, and near-valid payments with fields replaced at random.
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=8), children, max_size=3),
    max_leaves=8,
)
amounts = st.one_of(
    st.decimals(allow_nan=False, allow_infinity=False, places=3).map(str),
    st.integers(min_value=-(10**12), max_value=10**12),
    json_values,
)


def maybe(valid, other=json_values):
    return st.one_of(st.just(valid), other)


acts = st.fixed_dictionaries(
    {
        "care_date": maybe("2025-02-03", st.dates().map(str)),
        "nature": maybe("consultation", st.sampled_from([*ActNature.values, "x"])),
        "practitioner": maybe("Dr Claire Martin", st.text()),
        "amount_charged": maybe("30.00", amounts),
        "base": maybe("30.00", amounts),
        "rate": maybe("70", amounts),
        "reimbursed": maybe("21.00", amounts),
        "flat_fee": maybe("2.00", amounts),
    }
)
payments = st.fixed_dictionaries(
    {
        "id": maybe("PAY-H", st.text(max_size=70)),
        "nir": maybe(NIR.with_key, st.text(alphabet="0123456789AB -", max_size=16)),
        "beneficiary": maybe(
            None, st.fixed_dictionaries({"last_name": st.text(), "first_names": st.text(), "birth_date": json_values})
        ),
        "paid_on": maybe("2025-02-10", st.dates().map(str)),
        "amount": maybe("19.00", amounts),
        "payee": maybe("member", st.text(max_size=12)),
        "lines": maybe([act()], st.lists(acts, max_size=3)),
    }
)
outside_lines = st.one_of(
    payments.map(lambda data: json.dumps(data, ensure_ascii=False, default=str)),
    json_values.map(json.dumps),
    st.text(),
    st.binary().map(lambda raw: raw.decode("utf-8", errors="surrogateescape")),
)


class TestPaymentParseRandomised:
    @given(text=outside_lines)
    @settings(max_examples=300)
    def test_outside_input_gives_a_payment_or_reasons(self, text):
        try:
            parsed = payment_parse(text=text, today=TODAY)
        except PaymentRejected as rejected:
            assert rejected.reasons
            assert all(isinstance(reason, str) and reason for reason in rejected.reasons)
        else:
            assert parsed.amount >= 0
            assert parsed.amount == sum(act.reimbursed - act.flat_fee - act.deductible for act in parsed.acts)


# The fast path (feed._fast_reader) must accept no line that payment_parse rejects, and give the same values.


def written(row: feed.PaymentRow) -> tuple:
    """What a row writes, amounts as Decimal: the fast path keeps the text or number received ("5", 5), which
    the database stores as payment_parse's Decimal("5.00")."""
    return (
        row.external_id,
        row.nir.number,
        row.beneficiary,
        row.paid_on,
        Decimal(row.amount),
        row.payee,
        [
            (
                act.care_date,
                act.nature,
                act.practitioner,
                *(Decimal(value) for value in msgspec.structs.astuple(act)[3:]),
            )
            for act in row.acts
        ],
    )


def read_fast(text: str) -> feed.PaymentRow | None:
    return feed._fast_reader(TODAY)(text)


def assert_fast_path_agrees(text: str) -> feed.PaymentRow | None:
    """The fast path's row for `text`, after checking that payment_parse accepts it with the same values."""
    fast = read_fast(text)
    try:
        slow = feed._payment_row(payment_parse(text=text, today=TODAY))
    except PaymentRejected:
        assert fast is None
    else:
        assert fast is None or written(fast) == written(slow)
    return fast


def amount_forms(cents: int) -> list:
    """The forms a sum of money may take in the feed: text with 2 decimals, shortest text, JSON number."""
    units, hundredths = divmod(cents, 100)
    shortest = str(units) if not hundredths else f"{units}.{hundredths:02d}".rstrip("0")
    return [f"{units}.{hundredths:02d}", shortest, units if not hundredths else float(shortest)]


@st.composite
def usual_payments(draw) -> dict:
    """Valid payments as a claims system writes them, amounts in any of their forms."""

    def money(max_cents: int = 10**10 - 1) -> str | int | float:
        return draw(st.sampled_from(amount_forms(draw(st.integers(0, max_cents)))))

    names = st.sampled_from(["Dr Claire Martin", "Pharmacie du Centre", "Élodie L'Hôte-Ruiz", "", "Labo 🧪"])
    lines, total = [], 0
    for _index in range(draw(st.integers(1, 4))):
        reimbursed = draw(st.integers(0, 10**7))
        flat_fee = draw(st.integers(0, reimbursed))
        deductible = draw(st.integers(0, reimbursed - flat_fee))
        total += reimbursed - flat_fee - deductible
        line = {
            "care_date": str(draw(st.dates(datetime.date(1990, 1, 1), datetime.date(2025, 2, 10)))),
            "nature": draw(st.sampled_from(ActNature.values)),
            "practitioner": draw(names),
            "amount_charged": money(),
            "base": money(),
            "rate": money(10_000),
            "reimbursed": draw(st.sampled_from(amount_forms(reimbursed))),
        }
        if flat_fee or draw(st.booleans()):
            line["flat_fee"] = draw(st.sampled_from(amount_forms(flat_fee)))
        if deductible or draw(st.booleans()):
            line["deductible"] = draw(st.sampled_from(amount_forms(deductible)))
        lines.append(line)
    data = {
        "id": draw(st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-/", min_size=1, max_size=64)),
        "nir": draw(st.sampled_from([NIR.with_key, NIR.number, NIR.formatted])),
        "paid_on": "2025-02-10",
        "amount": draw(st.sampled_from(amount_forms(total))),
        "payee": draw(st.sampled_from(Payee.values)),
        "lines": lines,
    }
    if draw(st.booleans()):
        data["beneficiary"] = draw(
            st.none() | st.just({"last_name": "Lefèvre", "first_names": "Léa Marie", "birth_date": "2015-06-01"})
        )
    return data


def replace_one(data: dict, key: str, value, *, act: bool) -> dict:
    """`data` with `key` (of its first act when `act`) set to `value`."""
    if act:
        return data | {"lines": [data["lines"][0] | {key: value}, *data["lines"][1:]]}
    return data | {key: value}


tricky_values = st.sampled_from(
    [
        " 1.00",
        "1.00 ",
        "1.00\n",
        "+1.00",
        "01.00",
        "1.000",
        "1.001",
        "-0",
        "-0.00",
        "1e3",
        "1E3",
        ".5",
        "5.",
        "١٢",
        "１２",
        "1_000",
        "NaN",
        "Infinity",
        "100",
        "100.00",
        "100.001",
        "100.5",
        "99999999.99",
        "100000000",
        "999999.99",
        "1000000",
        "",
        " ",
        "2025-02-10",
        "2025-2-10",
        "2024-02-29",
        "2025-02-29",
        "0000-01-01",
        "2025-02-11",
        "2025-03-02",
        "２０２５-02-10",
        "20250210",
        "2025-02-10T00:00",
        "member",
        "MEMBER",
        "consultation",
        "x",
        "Dr\x00Martin",
        "Dr\u0085Martin",
        "Dr\u00a0Martin",
        "Dr\u2028Martin",
        "\ud800",
        "P" * 151,
        True,
        False,
        None,
        0,
        -1,
        12,
        10**8,
        10**30,
        1.5,
        1.005,
        100.0,
        1e3,
        [],
        {},
        ["1.00"],
        {"value": "1.00"},
    ]
)
act_keys = st.sampled_from([*msgspec.structs.fields(feed.ActRow)]).map(lambda field: field.name)
payment_keys = st.sampled_from(["id", "nir", "beneficiary", "paid_on", "amount", "payee", "lines"])


class TestFastPath:
    @pytest.mark.parametrize(
        "text",
        [
            dumps(payment()),
            dumps(payment(nir=NIR.formatted, amount=19, lines=[act(amount_charged=30, base=30.0, rate=70.0)])),
            dumps(payment(amount=27.5, lines=[act(reimbursed=27.5, flat_fee=0, deductible=0)])),
            dumps(without(payment(), "beneficiary") | {"unknown": [{"deep": [1, 2]}]}),
            dumps(payment(beneficiary={"last_name": "Lefèvre", "first_names": "Léa", "birth_date": "2015-06-01"})),
            dumps(payment(lines=[without(without(act(), "flat_fee"), "deductible") | {"reimbursed": "19"}])),
            dumps(payment(id="P" * 64, lines=[act(practitioner="É" * 150)])),
            "\t" + dumps(payment()) + "\r\n",
            dumps(payment(lines=[act()] * 500, amount=str(Decimal("19.00") * 500))),
            # At the limits.
            dumps(payment(lines=[act(amount_charged="99999999.99", base=99999999.99, rate="100.00")])),
            dumps(payment(lines=[act(reimbursed="1000021.00", flat_fee="999999.99", deductible="2.01", rate=0)])),
        ],
    )
    def test_usual_lines_take_it(self, text):
        assert assert_fast_path_agrees(text) is not None

    @pytest.mark.parametrize(
        "text",
        [
            # Duplicate keys, escaped or not: the last wins, as with json.loads.
            dumps(payment())[:-1] + ', "id": "PAY-2"}',
            dumps(payment())[:-1] + ', "\\u0069d": "PAY-2"}',
            dumps(payment())[:-1] + ', "amount": "21.00"}',
            # Escapes that json.loads reads as characters _text refuses.
            dumps(payment(id="x")).replace('"x"', '"\\ud800"'),
            dumps(payment(id="x")).replace('"x"', '"P\\u0000"'),
            dumps(payment(lines=[act(practitioner="x")])).replace('"x"', '"\\udc80"'),
            # Not one JSON object.
            "\ufeff" + dumps(payment()),
            dumps(payment()) + " x",
            dumps(payment()).replace('"19.00"', "NaN"),
            dumps(payment()).replace('"19.00"', "1" * 5000),
            "\udcff" + dumps(payment()),
            dumps([payment()]),
            # Values in forms payment_parse reads, which the fast path may leave to it.
            dumps(payment(amount="19.000")),
            dumps(payment(amount="019.00")),
            dumps(payment()).replace('"19.00"', "1.9e1"),
            dumps(payment(lines=[act(practitioner="Dr\u00a0Martin")])),
            dumps(payment(lines=[act(rate="100.000")])),
            # Values payment_parse rejects.
            dumps(payment(lines=[act(practitioner="Dr\x00Martin")])),
            dumps(payment(lines=[act(practitioner="Dr\x7fMartin")])),
            dumps(payment(lines=[act(practitioner="Dr\x85Martin")])),
            dumps(payment(lines=[act(amount_charged="100000000")])),
            dumps(payment(lines=[act(base=100000000)])),
            dumps(payment(lines=[act(reimbursed="1000021.00", flat_fee="1000002.00")])),
            dumps(payment(lines=[act(reimbursed="1000021.00", flat_fee="2.00", deductible="1000000")])),
            dumps(payment(amount="19.00\n")),
            dumps(payment(lines=[act(rate="100.01")])),
            dumps(payment(lines=[act(flat_fee="1000000")])),
            dumps(payment(paid_on="2025-02-29")),
            dumps(payment(lines=[act(care_date="2025-02-11")])),
            dumps(payment(paid_on="2025-03-02", lines=[act(care_date="2025-03-02")])),
            dumps(payment(beneficiary={"last_name": "L", "first_names": "L", "birth_date": "2025-03-02"})),
            dumps(payment(beneficiary={"last_name": " ", "first_names": "L", "birth_date": "2015-06-01"})),
            dumps(payment(beneficiary={})),
            dumps(payment(beneficiary={"last_name": "L", "first_names": "L", "birth_date": "20150601"})),
            dumps(payment(paid_on="20250210")),
            dumps(payment(id=" ")),
            dumps(payment(id="P\u0085")),
            dumps(payment(id="P" * 65)),
            dumps(payment(nir=NIR.number + ("00" if NIR.key != "00" else "01"))),
            dumps(payment(lines=[act()] * 501, amount=str(Decimal("19.00") * 501))),
        ],
    )
    def test_other_lines_are_left_to_payment_parse(self, text):
        assert_fast_path_agrees(text)

    @given(data=usual_payments())
    @settings(max_examples=300)
    def test_usual_payments(self, data):
        assert assert_fast_path_agrees(json.dumps(data, ensure_ascii=False)) is not None

    @given(data=usual_payments(), in_act=st.booleans(), key=st.data(), value=tricky_values | json_values)
    @settings(max_examples=500)
    def test_changed_payments(self, data, in_act, key, value):
        data = replace_one(data, key.draw(act_keys if in_act else payment_keys), value, act=in_act)
        assert_fast_path_agrees(json.dumps(data, ensure_ascii=False))

    @given(text=outside_lines)
    @settings(max_examples=300)
    def test_outside_input(self, text):
        assert_fast_path_agrees(text)


@pytest.fixture
def member(db):
    return MemberFactory(nir=NIR.number, last_name="Lefèvre")


def import_lines(lines, **kwargs) -> PaymentImportRun:
    return payments_import(lines=lines, source="test.jsonl", **kwargs)


def counts(run: PaymentImportRun) -> tuple[int, int, int]:
    return run.created_count, run.unchanged_count, run.rejected_count


@pytest.mark.django_db
class TestPaymentsImport:
    def test_creates_payment_and_acts(self, member):
        data = payment(lines=[act(), act(nature="pharmacy", reimbursed="5.40", flat_fee="0", deductible="0.50")])
        run = import_lines([dumps(data | {"amount": "23.90"})])
        assert counts(run) == (1, 0, 0)
        assert (run.source, run.lines_read, run.rejections) == ("test.jsonl", 1, [])
        assert run.finished_at is not None
        (saved,) = Payment.objects.for_member(member).with_lines()
        assert (saved.external_id, saved.beneficiary, saved.paid_on, saved.amount, saved.payee) == (
            "PAY-1",
            None,
            datetime.date(2025, 2, 10),
            Decimal("23.90"),
            Payee.MEMBER,
        )
        first, second = saved.lines.order_by("pk")
        assert (first.nature, first.practitioner, first.rate, first.reimbursed, first.flat_fee) == (
            "consultation",
            "Dr Claire Martin",
            Decimal("70.00"),
            Decimal("21.00"),
            Decimal("2.00"),
        )
        assert (second.nature, second.reimbursed, second.deductions) == ("pharmacy", Decimal("5.40"), Decimal("0.50"))

    def test_beneficiary_is_matched_without_case_or_accents(self, member):
        child = BeneficiaryFactory(
            member=member, last_name="Lefèvre", first_names="Léa-Marie", birth_date="2015-06-01"
        )
        BeneficiaryFactory(member=member, last_name="Lefèvre", first_names="Hugo", birth_date="2017-01-09")
        ref = {"last_name": "LEFEVRE", "first_names": "lea marie", "birth_date": "2015-06-01"}
        run = import_lines([dumps(payment(beneficiary=ref))])
        assert counts(run) == (1, 0, 0)
        assert Payment.objects.get().beneficiary == child

    @pytest.mark.parametrize(
        "ref",
        [
            {"last_name": "Lefèvre", "first_names": "Léa", "birth_date": "2015-06-02"},
            {"last_name": "Lefèvre", "first_names": "Lea Marie", "birth_date": "2015-06-01"},
            {"last_name": "Martin", "first_names": "Léa", "birth_date": "2015-06-01"},
        ],
    )
    def test_unknown_beneficiary_is_rejected(self, member, ref):
        BeneficiaryFactory(member=member, last_name="Lefèvre", first_names="Léa", birth_date="2015-06-01")
        run = import_lines([dumps(payment(beneficiary=ref))])
        assert counts(run) == (0, 0, 1)
        assert run.rejections == [
            {
                "line": 1,
                "reason": f"ligne 1 : bénéficiaire des soins inconnu : aucun ayant droit de l'assuré {NIR.masked} "
                "n'a ces nom, prénoms et date de naissance",
            }
        ]
        assert not Payment.objects.exists()

    def test_another_members_beneficiary_is_rejected(self, member):
        stranger = BeneficiaryFactory(last_name="Lefèvre", first_names="Léa", birth_date="2015-06-01")
        ref = {"last_name": "Lefèvre", "first_names": "Léa", "birth_date": "2015-06-01"}
        run = import_lines([dumps(payment(beneficiary=ref)), dumps(payment(id="PAY-2", nir=stranger.member.nir))])
        assert counts(run) == (1, 0, 1)
        assert Payment.objects.get().member == stranger.member

    def test_unknown_member_is_rejected_with_the_masked_nir_only(self, db):
        run = import_lines([dumps(payment())])
        assert counts(run) == (0, 0, 1)
        (rejection,) = run.rejections
        assert rejection["reason"] == f"ligne 1 : aucun assuré n'a le NIR {NIR.masked} dans le registre"
        assert NIR.number not in rejection["reason"]

    def test_importing_twice_gives_the_same_rows(self, member):
        lines = [dumps(payment(id=f"PAY-{index}")) for index in range(5)]
        assert counts(import_lines(lines)) == (5, 0, 0)
        before = (list(Payment.objects.order_by("pk").values()), list(PaymentLine.objects.order_by("pk").values()))
        assert counts(import_lines(lines)) == (0, 5, 0)
        after = (list(Payment.objects.order_by("pk").values()), list(PaymentLine.objects.order_by("pk").values()))
        assert after == before

    def test_a_received_payment_is_never_changed(self, member):
        existing = PaymentFactory(external_id="PAY-1", member=member, amount=Decimal("18.50"))
        run = import_lines([dumps(payment(amount="40.00", lines=[act(reimbursed="42.00")]))])
        assert counts(run) == (0, 1, 0)
        existing.refresh_from_db()
        assert existing.amount == Decimal("18.50")
        assert existing.lines.count() == 1

    @pytest.mark.parametrize("batch_size", [1, 2, 100])
    def test_the_same_id_twice_in_the_feed_is_created_once(self, member, batch_size):
        lines = [
            dumps(payment()),
            dumps(payment(id="PAY-2")),
            dumps(payment(amount="21.00", lines=[act(flat_fee="0")])),
        ]
        run = import_lines(lines, batch_size=batch_size)
        assert counts(run) == (2, 1, 0)
        assert Payment.objects.get(external_id="PAY-1").amount == Decimal("19.00")

    def test_a_rejected_line_does_not_make_its_id_known(self, member):
        lines = [
            dumps(
                payment(nir=nir_generate(sex="1", birth_date=datetime.date(1970, 1, 1), rng=random.Random(3)).with_key)
            ),
            dumps(payment()),
        ]
        run = import_lines(lines)
        assert counts(run) == (1, 0, 1)
        assert run.rejections[0]["line"] == 1

    @pytest.mark.parametrize("batch_size", [1, 2, 100])
    def test_a_bad_line_in_the_middle_leaves_the_others(self, member, batch_size):
        bad = payment(id="PAY-BAD", lines=[act(), act(rate="150", reimbursed="0", flat_fee="0")])
        lines = [dumps(payment(id="PAY-A")), dumps(bad), dumps(payment(id="PAY-B"))]
        run = import_lines(lines, batch_size=batch_size)
        assert counts(run) == (2, 0, 1)
        assert run.rejections == [
            {
                "line": 2,
                "reason": "ligne 2 : acte 2 : taux « 150 » invalide : pourcentage de 0 à 100 attendu, "
                "2 décimales au plus",
            }
        ]
        assert sorted(Payment.objects.values_list("external_id", flat=True)) == ["PAY-A", "PAY-B"]
        assert PaymentLine.objects.count() == 2

    def test_a_payment_and_its_acts_go_in_together(self, member, monkeypatch):
        # Writing the acts fails after the payments were inserted: the batch's transaction is rolled back.
        monkeypatch.setattr(feed, "_ACT_COLUMNS", (*feed._ACT_COLUMNS[:-1], "no_such_column"))
        with pytest.raises(DatabaseError):
            import_lines([dumps(payment())])
        assert not Payment.objects.exists()

    def test_the_fast_path_writes_what_payment_parse_would(self, member, monkeypatch):
        BeneficiaryFactory(member=member, last_name="Lefèvre", first_names="Léa", birth_date="2015-06-01")
        child = {"last_name": "LEFEVRE", "first_names": "lea", "birth_date": "2015-06-01"}
        forms = [
            payment(),
            payment(amount=19, lines=[act(amount_charged=30, base=30.5, rate=70, flat_fee=2)]),
            payment(amount="19.5", lines=[act(reimbursed=19.5, flat_fee="0", deductible=0, rate="65.5")]),
            payment(beneficiary=child, lines=[without(without(act(), "deductible"), "flat_fee")], amount="21"),
        ]
        fast = [dumps(data | {"id": f"fast-{index}"}) for index, data in enumerate(forms)]
        assert all(read_fast(line) for line in fast)
        assert counts(import_lines(fast)) == (4, 0, 0)
        monkeypatch.setattr(feed, "_fast_reader", lambda today: lambda text: None)
        assert counts(import_lines([line.replace('"fast-', '"slow-') for line in fast])) == (4, 0, 0)

        def stored(external_id: str) -> tuple:
            # As the database holds them (no ORM converters): "5" and Decimal("5.00") must be stored alike.
            payment_columns = ", ".join(feed._PAYMENT_COLUMNS[1:-1])
            act_columns = ", ".join(feed._ACT_COLUMNS[1:])
            with connection.cursor() as cursor:
                cursor.execute(
                    f"SELECT id, {payment_columns} FROM {Payment._meta.db_table} WHERE external_id = %s",  # noqa: S608
                    [external_id],
                )
                pk, *values = cursor.fetchone()
                cursor.execute(
                    f"SELECT {act_columns} FROM {PaymentLine._meta.db_table} WHERE payment_id = %s ORDER BY id",  # noqa: S608
                    [pk],
                )
                return values, cursor.fetchall()

        for index in range(len(forms)):
            assert stored(f"fast-{index}") == stored(f"slow-{index}")

    def test_ids_follow_those_given_before_and_after(self, member):
        before = PaymentFactory(member=member)
        deleted = PaymentFactory(member=member)
        deleted_pk = deleted.pk
        deleted.delete()
        lines = [dumps(payment(id="A")), dumps(payment(id="B", amount="42.00", lines=[act(flat_fee="0")] * 2))]
        assert counts(import_lines(lines)) == (2, 0, 0)
        after = PaymentFactory(member=member)
        first, second = Payment.objects.get(external_id="A"), Payment.objects.get(external_id="B")
        assert before.pk < deleted_pk < first.pk < second.pk < after.pk
        assert [line.reimbursed for line in first.lines.all()] == [Decimal("21.00")]
        assert [line.flat_fee for line in second.lines.all()] == [Decimal("0.00"), Decimal("0.00")]

    def test_a_write_that_meets_a_concurrent_insert_is_retried(self, member, monkeypatch):
        real_insert, calls = feed._payments_insert, []

        def insert_after_another_import(accepted):
            calls.append(len(accepted))
            if len(calls) == 1:  # another import writes PAY-1 between our read and our write
                PaymentFactory(external_id="PAY-1", member=member)
            real_insert(accepted)

        monkeypatch.setattr(feed, "_payments_insert", insert_after_another_import)
        run = import_lines([dumps(payment()), dumps(payment(id="PAY-2"))])
        assert (counts(run), calls) == ((2, 0, 0), [2, 2])
        assert PaymentLine.objects.filter(payment__external_id="PAY-1").get().practitioner == "Dr Claire Martin"

    def test_a_batch_is_retried_after_a_concurrent_insert(self, member, monkeypatch):
        real_write, calls = feed._batch_write, []

        def write_once_conflicting(payments):
            calls.append(len(payments))
            if len(calls) == 1:
                raise IntegrityError("duplicate key value violates unique constraint")
            return real_write(payments)

        monkeypatch.setattr(feed, "_batch_write", write_once_conflicting)
        run = import_lines([dumps(payment())])
        assert (counts(run), calls) == ((1, 0, 0), [1, 1])

    def test_a_batch_that_keeps_conflicting_fails(self, member, monkeypatch):
        def always_conflicting(payments):
            raise IntegrityError("duplicate key value violates unique constraint")

        monkeypatch.setattr(feed, "_batch_write", always_conflicting)
        with pytest.raises(IntegrityError):
            import_lines([dumps(payment())])

    def test_blank_lines_are_skipped_but_counted_in_line_numbers(self, member):
        run = import_lines(["\n", dumps(payment()) + "\n", "   \n", "{\n"])
        assert run.lines_read == 2
        assert run.rejections == [
            {"line": 4, "reason": "ligne 4 : JSON illisible (caractère 3) : un objet JSON par ligne est attendu"}
        ]

    def test_rejections_are_reported_in_line_order(self, member):
        reported = []
        unknown = nir_generate(sex="1", birth_date=datetime.date(1970, 1, 1), rng=random.Random(3)).with_key
        lines = [dumps(payment(id="A", nir=unknown)), "x", dumps(payment(id="B")), "y"]
        run = import_lines(lines, on_rejection=reported.append, batch_size=10)
        assert [rejection.line for rejection in reported] == [1, 2, 4]
        assert [rejection["line"] for rejection in run.rejections] == [1, 2, 4]

    def test_stored_rejections_are_capped(self, member, monkeypatch):
        monkeypatch.setattr(feed, "REJECTIONS_STORED_MAX", 2)
        run = import_lines(["x"] * 5)
        assert run.rejected_count == 5
        assert [rejection["line"] for rejection in run.rejections] == [1, 2]

    def test_progress_at_most_once_per_interval(self, member):
        ticks = iter(range(1000))
        reported = []
        import_lines(
            [dumps(payment(id=f"P{index}")) for index in range(10)],
            on_progress=reported.append,
            clock=lambda: next(ticks) * 0.3,  # each clock() call moves 0.3 s on
            batch_size=3,
        )
        assert reported
        assert [state.rows_read for state in reported] == sorted({state.rows_read for state in reported})
        elapsed = [state.elapsed for state in reported]
        assert all(later - earlier >= 1.0 for earlier, later in zip(elapsed, elapsed[1:], strict=False))

    def test_a_big_batch_of_acts_is_written_early(self, member, django_assert_num_queries):
        many_acts = payment(amount=str(Decimal("19.00") * 30), lines=[act()] * 30)
        lines = [dumps(many_acts | {"id": f"P{index}"}) for index in range(3)]
        # 20 acts at most per batch of 2: each payment is written in its own batch (3 batches, not 2), each
        # without the beneficiaries query (no payment names one).
        with django_assert_num_queries(2 + (TestImportQueries.QUERIES_PER_BATCH - 1) * 3):
            run = import_lines(lines, batch_size=2)
        assert counts(run) == (3, 0, 0)
        assert PaymentLine.objects.count() == 90


@pytest.mark.django_db
class TestImportQueries:
    # Per batch: savepoint, known ids, members, beneficiaries, payment ids, INSERT (or COPY) payments, INSERT
    # (or COPY) acts, release, run update.
    QUERIES_PER_BATCH = 9

    @pytest.mark.parametrize(("batch_size", "batches"), [(5, 4), (10, 2), (20, 1)])
    def test_queries_per_batch_are_constant(self, django_assert_max_num_queries, batch_size, batches):
        members = MemberFactory.create_batch(4)
        children = [BeneficiaryFactory(member=member) for member in members]
        PaymentFactory(external_id="P0", member=members[0])
        lines = []
        for index in range(20):
            member, child = members[index % 4], children[index % 4]
            ref = {"last_name": child.last_name, "first_names": child.first_names, "birth_date": str(child.birth_date)}
            lines.append(dumps(payment(id=f"P{index}", nir=member.nir, beneficiary=ref if index % 2 else None)))
        with django_assert_max_num_queries(2 + self.QUERIES_PER_BATCH * batches):
            run = import_lines(lines, batch_size=batch_size)
        assert counts(run) == (19, 1, 0)
        assert Payment.objects.filter(beneficiary__isnull=False).count() == 10


@pytest.mark.django_db
class TestImportRandomised:
    @given(lines=st.lists(outside_lines, max_size=6))
    @settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
    def test_outside_input_is_imported_or_rejected(self, member, lines):
        before = Payment.objects.count()
        run = import_lines(lines, batch_size=2)
        assert run.lines_read == sum(1 for line in lines if line.strip())
        assert run.created_count + run.unchanged_count + run.rejected_count == run.lines_read
        assert Payment.objects.count() == before + run.created_count
        assert not PaymentLine.objects.filter(payment__isnull=True).exists()


@pytest.mark.django_db
class TestImportPaymentsCommand:
    def test_summary_and_rejections(self, member, tmp_path, capsys):
        path = tmp_path / "paiements.jsonl"
        path.write_text(dumps(payment()) + "\n" + "pas du JSON\n" + dumps(payment()) + "\n", encoding="utf-8")
        call_command("import_payments", str(path))
        out, err = capsys.readouterr()
        assert out.strip() == "créés : 1, déjà connus : 1, rejetés : 1"
        assert "ligne 2 : JSON illisible (caractère 1) : un objet JSON par ligne est attendu" in err
        assert PaymentImportRun.objects.get().source == "paiements.jsonl"

    def test_bom_crlf_and_bytes_that_are_not_utf8(self, member, tmp_path, capsys):
        path = tmp_path / "paiements.jsonl"
        good = dumps(payment()).encode()
        path.write_bytes(b"\xef\xbb\xbf" + good + b"\r\n" + b'{"id": "caf\xe9"}\r\n')
        call_command("import_payments", str(path))
        out, err = capsys.readouterr()
        assert out.strip() == "créés : 1, déjà connus : 0, rejetés : 1"
        assert "ligne 2 : caractères qui ne sont pas en UTF-8 (enregistrez le fichier en UTF-8)" in err

    def test_a_line_separator_inside_a_string_does_not_split_the_line(self, member, tmp_path, capsys):
        path = tmp_path / "paiements.jsonl"
        path.write_text(dumps(payment(lines=[act(practitioner="Dr\u2028Martin")])) + "\n", encoding="utf-8")
        call_command("import_payments", str(path))
        assert capsys.readouterr().out.strip() == "créés : 1, déjà connus : 0, rejetés : 0"
        assert PaymentLine.objects.get().practitioner == "Dr\u2028Martin"

    @pytest.mark.parametrize("name", ["absent.jsonl", "."])
    def test_unreadable_file_fails(self, db, tmp_path, name):
        with pytest.raises(CommandError, match="Impossible d'ouvrir le fichier") as error:
            call_command("import_payments", str(tmp_path / name))
        assert error.value.returncode == 1
