"""Every back-office page is refused to anonymous users, members, agents without the second factor and
agents whose role is too low."""

from http import HTTPStatus

import pytest
from django.urls import reverse

from portail.backoffice.enums import AgentRole
from portail.backoffice.testing import agent_make, client_log_agent_in
from portail.backoffice.tests.conftest import account_make
from portail.benefits.models import PaymentImportRun
from portail.post.models import PrintBatch
from portail.registry.factories import MemberFactory
from portail.registry.models import ImportRun

# (URL name, needs an object, HTTP method, lowest role allowed)
PAGES = [
    ("backoffice:dashboard", None, "get", AgentRole.AGENT),
    ("backoffice:inbox", None, "get", AgentRole.AGENT),
    ("backoffice:member_search", None, "get", AgentRole.AGENT),
    ("backoffice:member", "member", "get", AgentRole.AGENT),
    ("backoffice:member_unlock", "member", "post", AgentRole.AGENT),
    ("backoffice:member_code", "member", "post", AgentRole.AGENT),
    ("backoffice:letters", None, "get", AgentRole.SUPERVISOR),
    ("backoffice:letters_export", None, "post", AgentRole.SUPERVISOR),
    ("backoffice:batch_pdf", "batch", "get", AgentRole.SUPERVISOR),
    ("backoffice:batch_manifest", "batch", "get", AgentRole.SUPERVISOR),
    ("backoffice:batch_posted", "batch", "post", AgentRole.SUPERVISOR),
    ("backoffice:feeds", None, "get", AgentRole.SUPERVISOR),
    ("backoffice:register_run", "register_run", "get", AgentRole.SUPERVISOR),
    ("backoffice:payment_run", "payment_run", "get", AgentRole.SUPERVISOR),
    ("backoffice:audit", None, "get", AgentRole.SUPERVISOR),
    ("backoffice:audit_export", None, "get", AgentRole.ADMINISTRATOR),
]
PAGE_IDS = [name.split(":")[1] for name, *_ in PAGES]


@pytest.fixture
def objects(db):
    from django.utils import timezone

    return {
        "member": MemberFactory().pk,
        "batch": PrintBatch.objects.create(letter_count=0).pk,
        "register_run": ImportRun.objects.create(file_name="registre.csv", started_at=timezone.now()).pk,
        "payment_run": PaymentImportRun.objects.create(source="fichier.jsonl", started_at=timezone.now()).pk,
    }


def call(client, name, needs, method, objects):
    args = [objects[needs]] if needs else []
    return getattr(client, method)(reverse(name, args=args))


def login_url():
    return reverse("backoffice:login")


@pytest.mark.django_db
class TestRefused:
    @pytest.mark.parametrize(("name", "needs", "method", "role"), PAGES, ids=PAGE_IDS)
    def test_anonymous_goes_to_the_agents_login(self, client, objects, name, needs, method, role):
        response = call(client, name, needs, method, objects)
        assert response.status_code == HTTPStatus.FOUND
        assert response["Location"].startswith(login_url() + "?next=")

    @pytest.mark.parametrize(("name", "needs", "method", "role"), PAGES, ids=PAGE_IDS)
    def test_a_logged_in_member_is_forbidden(self, client, objects, name, needs, method, role):
        member_account = account_make(MemberFactory())
        client.force_login(member_account.user)
        assert call(client, name, needs, method, objects).status_code == HTTPStatus.FORBIDDEN

    @pytest.mark.parametrize(("name", "needs", "method", "role"), PAGES, ids=PAGE_IDS)
    def test_an_agent_without_the_second_factor_goes_to_the_login(self, client, objects, name, needs, method, role):
        client_log_agent_in(client, agent_make(role=AgentRole.ADMINISTRATOR), verified=False)
        response = call(client, name, needs, method, objects)
        assert response.status_code == HTTPStatus.FOUND
        assert response["Location"].startswith(login_url())

    @pytest.mark.parametrize(("name", "needs", "method", "role"), PAGES, ids=PAGE_IDS)
    def test_an_agent_without_a_role_is_forbidden(self, client, objects, name, needs, method, role):
        client_log_agent_in(client, agent_make(role=None))
        assert call(client, name, needs, method, objects).status_code == HTTPStatus.FORBIDDEN

    @pytest.mark.parametrize(
        ("name", "needs", "method", "role", "agent_role"),
        [(*page, lower) for page in PAGES for lower in AgentRole if not lower.includes(page[3])],
    )
    def test_a_lower_role_is_forbidden(self, client, objects, name, needs, method, role, agent_role):
        client_log_agent_in(client, agent_make(role=agent_role))
        assert call(client, name, needs, method, objects).status_code == HTTPStatus.FORBIDDEN

    def test_an_inactive_agent_is_logged_out(self, client):
        user = agent_make(role=AgentRole.ADMINISTRATOR)
        client_log_agent_in(client, user)
        user.is_active = False
        user.save()
        response = client.get(reverse("backoffice:dashboard"))
        assert response.status_code == HTTPStatus.FOUND
        assert response["Location"].startswith(login_url())


@pytest.mark.django_db
class TestAllowed:
    @pytest.mark.parametrize(("name", "needs", "method", "role"), PAGES, ids=PAGE_IDS)
    def test_the_lowest_role_allowed_gets_in(self, client, objects, name, needs, method, role):
        client_log_agent_in(client, agent_make(role=role))
        response = call(client, name, needs, method, objects)
        # A page, a redirect after a POST, or a missing batch file: never a refusal.
        assert response.status_code in {HTTPStatus.OK, HTTPStatus.FOUND, HTTPStatus.NOT_FOUND}
        if response.status_code == HTTPStatus.FOUND:
            assert not response["Location"].startswith(login_url())
        if response.status_code == HTTPStatus.OK and method == "get" and needs != "batch":
            assert response["Cache-Control"].startswith("max-age=0")

    def test_the_menu_shows_only_what_the_role_allows(self, client):
        client_log_agent_in(client, agent_make(role=AgentRole.AGENT))
        page = client.get(reverse("backoffice:dashboard")).content.decode()
        assert reverse("backoffice:member_search") in page
        assert reverse("backoffice:inbox") in page
        assert reverse("backoffice:letters") not in page
        assert reverse("backoffice:audit") not in page
        assert reverse("admin:index") not in page


@pytest.mark.django_db
class TestDjangoAdmin:
    def test_anonymous_is_sent_to_the_agents_login(self, client):
        response = client.get(reverse("admin:index"), follow=True)
        assert response.redirect_chain[-1][0].startswith(login_url() + "?next=/gestion/")

    @pytest.mark.parametrize("role", [AgentRole.AGENT, AgentRole.SUPERVISOR])
    def test_other_roles_are_forbidden(self, client, role):
        client_log_agent_in(client, agent_make(role=role))
        response = client.get(reverse("admin:index"), follow=True)
        assert response.status_code == HTTPStatus.FORBIDDEN

    def test_a_superuser_without_the_second_factor_is_not_let_in(self, client, admin_user):
        client_log_agent_in(client, admin_user, verified=False)
        response = client.get(reverse("admin:index"), follow=True)
        assert response.redirect_chain[-1][0].startswith(login_url())

    def test_a_verified_administrator_gets_in_and_sees_agents_only(self, client):
        client_log_agent_in(client, agent_make(role=AgentRole.ADMINISTRATOR, username="chef"))
        member_account = account_make(MemberFactory())
        assert client.get(reverse("admin:index")).status_code == HTTPStatus.OK
        agents = client.get(reverse("admin:backoffice_agentuser_changelist")).content.decode()
        assert "chef" in agents
        assert member_account.user.username not in agents

    def test_a_member_is_forbidden(self, client):
        member_account = account_make(MemberFactory())
        client.force_login(member_account.user)
        response = client.get(reverse("admin:index"), follow=True)
        assert response.redirect_chain[-1][0].startswith(login_url())
