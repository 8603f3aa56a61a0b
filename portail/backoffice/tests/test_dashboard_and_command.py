import datetime as dt
from io import StringIO

import pytest
import time_machine
from django.core.management import CommandError, call_command
from django.urls import reverse
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

from portail.accounts.enums import ProvisionalCodeStatus
from portail.accounts.models import ProvisionalCode
from portail.accounts.services import provisional_code_issue
from portail.backoffice.enums import AgentRole
from portail.backoffice.roles import GROUP_NAMES, agent_role
from portail.backoffice.selectors import dashboard_figures
from portail.backoffice.tests.conftest import account_make
from portail.registry.factories import MemberFactory


@pytest.mark.django_db
class TestDashboard:
    def test_figures(self):
        now = timezone.now()
        with time_machine.travel(now - dt.timedelta(days=10)):
            account_make(MemberFactory())
            old = provisional_code_issue(member=MemberFactory(), now=timezone.now())
        account_make(MemberFactory())
        code = provisional_code_issue(member=MemberFactory(), now=now)
        ProvisionalCode.objects.filter(pk=code.pk).update(status=ProvisionalCodeStatus.USED, ended_at=now)
        figures = dashboard_figures(now=now)
        assert (figures["accounts_created"].today, figures["accounts_created"].week) == (1, 1)
        assert figures["accounts_created"].month == 2
        assert (figures["codes_ordered"].week, figures["codes_ordered"].month) == (1, 2)
        assert figures["codes_used"].today == 1
        assert figures["letters_waiting"] == 2
        assert figures["letters_oldest"] is not None
        assert old.pk

    def test_messages_waiting_and_their_age(self, as_agent):
        from portail.messaging.enums import Topic
        from portail.messaging.services import thread_start

        now = timezone.now()
        thread_start(
            member=MemberFactory(),
            topic=Topic.REIMBURSEMENT,
            subject="Remboursement",
            body="Bonjour, où en est mon remboursement ?",
            now=now - dt.timedelta(days=3),
        )
        figures = dashboard_figures(now=now)
        assert figures["messages"]["count"] == 1
        assert figures["messages"]["oldest"] == now - dt.timedelta(days=3)
        page = as_agent.get(reverse("backoffice:dashboard")).content.decode()
        assert "attend depuis 3" in page
        assert reverse("backoffice:inbox") in page

    def test_page_links_by_role(self, as_agent, client):
        page = as_agent.get(reverse("backoffice:dashboard")).content.decode()
        assert "Courriers en attente" in page
        assert reverse("backoffice:letters") not in page
        assert "Messages en attente" in page


@pytest.mark.django_db
class TestCreateAgent:
    def run(self, *args):
        out = StringIO()
        call_command("create_agent", *args, stdout=out)
        return out.getvalue()

    @pytest.mark.parametrize("role", list(AgentRole))
    def test_creates_with_role_and_one_time_password(self, role):
        from portail.accounts.models import User

        output = self.run("c.dupont", "--role", role.value)
        user = User.objects.get(username="c.dupont")
        password = output.split("Mot de passe à usage unique : ")[1].split()[0]
        assert user.check_password(password)
        assert agent_role(user) == role
        assert user.groups.get().name == GROUP_NAMES[role]
        assert user.last_login is None
        assert not TOTPDevice.objects.filter(user=user).exists()

    def test_idempotent_and_changes_the_role(self):
        from portail.accounts.models import User

        first = self.run("c.dupont", "--role", "agent")
        second = self.run("c.dupont", "--role", "supervisor")
        user = User.objects.get(username="c.dupont")
        assert "usage unique" in first and "usage unique" not in second
        assert agent_role(user) == AgentRole.SUPERVISOR
        assert user.groups.count() == 1

    def test_reset_removes_the_authenticator(self):
        from portail.accounts.models import User

        self.run("c.dupont", "--role", "agent")
        user = User.objects.get(username="c.dupont")
        TOTPDevice.objects.create(user=user, name="x", confirmed=True)
        output = self.run("c.dupont", "--role", "agent", "--reset")
        assert "usage unique" in output
        assert not TOTPDevice.objects.filter(user=user).exists()

    def test_refuses_a_members_username(self):
        account = account_make(MemberFactory())
        with pytest.raises(CommandError):
            self.run(account.user.username, "--role", "administrator")
