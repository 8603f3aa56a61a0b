import csv
import datetime as dt
import io
from http import HTTPStatus

import pytest
import time_machine
from django.urls import reverse

from portail.backoffice.enums import AccessReason, AgentAction, AgentRole
from portail.backoffice.models import AgentAccess
from portail.backoffice.services import agent_access_record
from portail.backoffice.testing import agent_make, client_log_agent_in
from portail.registry.factories import MemberFactory


def viewed(agent, member, reason=AccessReason.MEMBER_CALL, detail=""):
    return agent_access_record(
        agent=agent, action=AgentAction.MEMBER_VIEWED, member=member, reason=reason, detail=detail
    )


def export(client, **query):
    response = client.get(reverse("backoffice:audit_export"), query)
    assert response.status_code == HTTPStatus.OK
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    return response, list(csv.reader(io.StringIO(text)))


@pytest.mark.django_db
class TestAppendOnly:
    def test_the_model_refuses_updates_and_deletes(self, agent, member):
        row = viewed(agent, member)
        row.detail = "changed"
        with pytest.raises(ValueError, match="append-only"):
            row.save()
        with pytest.raises(ValueError, match="append-only"):
            row.delete()
        with pytest.raises(ValueError, match="append-only"):
            AgentAccess.objects.filter(pk=row.pk).update(detail="changed")
        with pytest.raises(ValueError, match="append-only"):
            AgentAccess.objects.all().delete()
        row.refresh_from_db()
        assert row.detail == ""

    def test_the_admin_has_no_add_change_or_delete(self, as_administrator, agent, member):
        row = viewed(agent, member)
        assert as_administrator.get(reverse("admin:backoffice_agentaccess_changelist")).status_code == HTTPStatus.OK
        assert as_administrator.get(reverse("admin:backoffice_agentaccess_add")).status_code == HTTPStatus.FORBIDDEN
        change = reverse("admin:backoffice_agentaccess_change", args=[row.pk])
        assert as_administrator.post(change, {"detail": "x"}).status_code == HTTPStatus.FORBIDDEN
        delete = reverse("admin:backoffice_agentaccess_delete", args=[row.pk])
        assert as_administrator.post(delete, {"post": "yes"}).status_code == HTTPStatus.FORBIDDEN
        assert AgentAccess.objects.filter(pk=row.pk, detail="").exists()

    def test_no_back_office_url_writes_to_it_but_by_appending(self):
        from portail.backoffice import urls

        names = {pattern.name for pattern in urls.urlpatterns}
        assert not {name for name in names if "edit" in name or "delete" in name}


@pytest.mark.django_db
class TestAuditPage:
    def test_lists_and_filters(self, as_supervisor, agent, member):
        other_agent, other_member = agent_make(username="autre"), MemberFactory(last_name="Zyx")
        viewed(agent, member)
        viewed(other_agent, other_member)
        page = as_supervisor.get(reverse("backoffice:audit")).content.decode()
        assert member.last_name in page and "Zyx" in page
        by_agent = as_supervisor.get(reverse("backoffice:audit"), {"agent": other_agent.pk}).content.decode()
        assert "Zyx" in by_agent and member.last_name not in by_agent
        found = as_supervisor.get(reverse("backoffice:audit"), {"nir": member.nir})
        assert found["Location"] == f"{reverse('backoffice:audit')}?membre={member.pk}"
        by_member = as_supervisor.get(found["Location"]).content.decode()
        assert member.last_name in by_member and "Zyx" not in by_member
        assert member.nir not in by_member

    def test_filters_by_dates(self, as_supervisor, agent, member):
        with time_machine.travel(dt.datetime(2025, 3, 1, 10, tzinfo=dt.UTC)):
            viewed(agent, member, detail="mars")
        with time_machine.travel(dt.datetime(2025, 4, 1, 10, tzinfo=dt.UTC)):
            viewed(agent, member, detail="avril")
        page = as_supervisor.get(reverse("backoffice:audit"), {"date_from": "15/03/2025", "date_to": "01/04/2025"})
        body = page.content.decode()
        assert "avril" in body and "mars" not in body
        wrong = as_supervisor.get(reverse("backoffice:audit"), {"date_from": "02/04/2025", "date_to": "01/04/2025"})
        assert "précède" in wrong.content.decode()

    def test_unknown_nir_says_so(self, as_supervisor):
        page = as_supervisor.get(reverse("backoffice:audit"), {"nir": MemberFactory.build().nir})
        assert "Aucun assuré" in page.content.decode()

    def test_paginated_with_constant_queries(self, as_supervisor, agent, django_assert_max_num_queries):
        members = MemberFactory.create_batch(3)
        for index in range(60):
            viewed(agent, members[index % 3])
        with django_assert_max_num_queries(12):
            first = as_supervisor.get(reverse("backoffice:audit"))
        assert "Page 1 sur 2" in first.content.decode()
        second = as_supervisor.get(reverse("backoffice:audit"), {"page": 2})
        assert second.content.decode().count("<tr>") == 10 + 1

    def test_export_link_only_for_administrators(self, as_supervisor, client):
        assert (
            reverse("backoffice:audit_export") not in as_supervisor.get(reverse("backoffice:audit")).content.decode()
        )
        client_log_agent_in(client, agent_make(role=AgentRole.ADMINISTRATOR))
        assert reverse("backoffice:audit_export") in client.get(reverse("backoffice:audit")).content.decode()


@pytest.mark.django_db
class TestCsvExport:
    def test_masked_nir_and_member_id_and_audited(self, as_administrator, administrator, agent, member):
        viewed(agent, member, detail='=HYPERLINK("x")')
        response, rows = export(as_administrator)
        assert response["Content-Type"].startswith("text/csv")
        assert "attachment" in response["Content-Disposition"]
        assert rows[0] == [
            "date",
            "agent",
            "nom_agent",
            "action",
            "motif",
            "assure_id",
            "nir_masque",
            "detail",
            "adresse_reseau",
        ]
        (line,) = [row for row in rows[1:] if row[5] == str(member.pk)]
        assert line[1] == agent.username
        assert line[5] == str(member.pk)
        assert line[6] == member.nir_masked
        assert line[7].startswith("'=")  # never a formula in a spreadsheet
        body = "\n".join(",".join(row) for row in rows)
        assert member.nir not in body
        assert AgentAccess.objects.filter(agent=administrator, action=AgentAction.AUDIT_EXPORTED).count() == 1

    def test_filters_apply(self, as_administrator, agent, member):
        other = MemberFactory()
        viewed(agent, member)
        viewed(agent, other)
        _response, rows = export(as_administrator, membre=other.pk)
        assert [row[5] for row in rows[1:]] == [str(other.pk)]
        export_row = AgentAccess.objects.get(action=AgentAction.AUDIT_EXPORTED)
        assert other.nir_masked in export_row.detail and other.nir not in export_row.detail
        _response, rows = export(as_administrator, nir=other.nir)
        assert {row[5] for row in rows[1:]} == {str(other.pk)}

    def test_invalid_filters_go_back_to_the_page(self, as_administrator):
        response = as_administrator.get(reverse("backoffice:audit_export"), {"date_from": "32/13/2025"})
        assert response.status_code == HTTPStatus.FOUND
        assert response["Location"].startswith(reverse("backoffice:audit"))
