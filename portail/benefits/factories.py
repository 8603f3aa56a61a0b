"""factory-boy factories for payments and statements. Synthetic data only."""

import datetime as dt
from decimal import Decimal

import factory

from portail.benefits.enums import ActNature, Payee, StatementDelivery
from portail.benefits.models import Payment, PaymentLine, Statement
from portail.registry.factories import MemberFactory


class PaymentFactory(factory.django.DjangoModelFactory):
    """A payment with one act by default (`lines=n` for more)."""

    class Meta:
        model = Payment
        skip_postgeneration_save = True

    external_id = factory.Sequence(lambda n: f"PAY-{n:09d}")
    member = factory.SubFactory(MemberFactory)
    beneficiary = None
    paid_on = factory.LazyFunction(lambda: dt.date.today() - dt.timedelta(days=3))
    amount = Decimal("18.50")
    payee = Payee.MEMBER

    @factory.post_generation
    def lines(payment, create, extracted, **kwargs):
        if not create:
            return
        for index in range(1 if extracted is None else extracted):
            PaymentLineFactory(payment=payment, care_date=payment.paid_on - dt.timedelta(days=5 + index))


class PaymentLineFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = PaymentLine

    payment = factory.SubFactory(PaymentFactory, lines=0)
    care_date = factory.LazyAttribute(lambda line: line.payment.paid_on - dt.timedelta(days=5))
    nature = ActNature.CONSULTATION
    practitioner = factory.Faker("name", locale="fr_FR")
    amount_charged = Decimal("30.00")
    base = Decimal("30.00")
    rate = Decimal("70.00")
    reimbursed = Decimal("20.00")
    flat_fee = Decimal("2.00")
    deductible = Decimal("0.00")


class StatementFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Statement

    member = factory.SubFactory(MemberFactory)
    month = factory.LazyFunction(lambda: (dt.date.today().replace(day=1) - dt.timedelta(days=1)).replace(day=1))
    delivery = StatementDelivery.ONLINE
    payment_count = 0
    total_paid = Decimal("0.00")
