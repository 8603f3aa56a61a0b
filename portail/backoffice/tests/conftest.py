import datetime as dt

import pytest
from django.utils import timezone

from portail.accounts.enums import SecretQuestion, UserKind
from portail.accounts.models import Account, User
from portail.backoffice.enums import AgentRole
from portail.backoffice.testing import agent_make, client_log_agent_in
from portail.registry.factories import MemberFactory


@pytest.fixture
def agent(db):
    return agent_make(role=AgentRole.AGENT)


@pytest.fixture
def supervisor(db):
    return agent_make(role=AgentRole.SUPERVISOR)


@pytest.fixture
def administrator(db):
    return agent_make(role=AgentRole.ADMINISTRATOR)


@pytest.fixture
def as_agent(client, agent):
    return client_log_agent_in(client, agent)


@pytest.fixture
def as_supervisor(client, supervisor):
    return client_log_agent_in(client, supervisor)


@pytest.fixture
def as_administrator(client, administrator):
    return client_log_agent_in(client, administrator)


def account_make(member, *, email="assure@example.org", verified=True) -> Account:
    user = User(username=f"assure-{member.pk}", kind=UserKind.MEMBER)
    user.set_password("73915824")
    user.save()
    return Account.objects.create(
        user=user,
        member=member,
        secret_question=SecretQuestion.FIRST_PET,
        secret_answer_hash="argon2pepper$secret-answer-hash-must-not-show",
        email=email,
        email_verified_at=timezone.now() - dt.timedelta(days=1) if verified else None,
        terms_accepted_at=timezone.now() - dt.timedelta(days=2),
    )


@pytest.fixture
def member(db):
    return MemberFactory(last_name="Lefèvre", first_names="Léa", birth_date=dt.date(1980, 5, 17))


@pytest.fixture
def member_account(member):
    return account_make(member)
