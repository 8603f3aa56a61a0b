"""Back-office pages. Every view goes through `agent_view`; views validate a form, call one service or
selector, and render or redirect."""

import csv
from pathlib import Path
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST

from portail.accounts import security
from portail.backoffice import selectors, services
from portail.backoffice.decorators import agent_view
from portail.backoffice.enums import AccessReason, AgentAction, AgentRole
from portail.backoffice.forms import AuditFilterForm, MemberActionForm, MemberSearchForm, ReasonForm
from portail.benefits.models import PaymentImportRun
from portail.post.models import PrintBatch
from portail.registry.models import ImportRun, Member

AUDIT_PAGE_SIZE = 50
FEED_RUNS_SHOWN = 50


# --- Dashboard and inbox ----------------------------------------------------------------


@agent_view
def dashboard_view(request):
    now = timezone.now()
    return render(request, "backoffice/dashboard.html", {"figures": selectors.dashboard_figures(now=now), "now": now})


# --- Member lookup and file ----------------------------------------------------------------


def _member_url(member_id: int, reason: str) -> str:
    return f"{reverse('backoffice:member', args=[member_id])}?{urlencode({'motif': reason})}"


@agent_view
def member_search_view(request):
    form = MemberSearchForm(request.POST or None)
    results = None
    if request.method == "POST" and form.is_valid():
        reason, nir = form.cleaned_data["reason"], form.cleaned_data["nir"]
        if nir is not None:
            results = list(Member.objects.filter(nir=nir.number))
            how = "par numéro de sécurité sociale"
        else:
            results = selectors.members_by_name(
                last_name=form.cleaned_data["last_name"], birth_date=form.cleaned_data["birth_date"]
            )
            how = "par nom et date de naissance"
        services.agent_access_record(
            agent=request.user,
            action=AgentAction.MEMBER_SEARCH,
            reason=reason,
            detail=f"{how} : {len(results)} résultat(s)",
            client_ip=security.client_ip(request),
        )
        if len(results) == 1:
            return redirect(_member_url(results[0].pk, reason))
        for member in results:
            member.backoffice_url = _member_url(member.pk, reason)
    return render(request, "backoffice/member_search.html", {"form": form, "results": results})


def _member_page(request, member, reason, *, unlock_form=None, code_form=None, status=200):
    """The member's file: shown only with a reason, and every showing is one audit row."""
    services.agent_access_record(
        agent=request.user,
        action=AgentAction.MEMBER_VIEWED,
        member=member,
        reason=reason,
        client_ip=security.client_ip(request),
    )
    initial = {"reason": reason}
    context = {
        "member": member,
        "reason": reason,
        "reason_label": AccessReason(reason).label,
        "file": selectors.member_file(member=member, now=timezone.now()),
        "unlock_form": unlock_form or MemberActionForm(prefix="unlock", initial=initial),
        "code_form": code_form or MemberActionForm(prefix="code", initial=initial),
    }
    return render(request, "backoffice/member_detail.html", context, status=status)


@agent_view
def member_detail_view(request, member_id):
    member = get_object_or_404(Member.objects.select_related("fund"), pk=member_id)
    form = ReasonForm(request.GET if "motif" in request.GET else None)
    if not form.is_valid():
        return render(request, "backoffice/member_reason.html", {"form": form, "member_id": member.pk})
    return _member_page(request, member, form.cleaned_data["motif"])


def _member_action(request, member_id, *, prefix, act):
    member = get_object_or_404(Member.objects.select_related("fund"), pk=member_id)
    consultation = ReasonForm(request.POST)
    if not consultation.is_valid():
        return redirect("backoffice:member", member_id=member.pk)
    reason = consultation.cleaned_data["motif"]
    form = MemberActionForm(request.POST, prefix=prefix)
    if not form.is_valid():
        return _member_page(request, member, reason, status=400, **{f"{prefix}_form": form})
    act(member, form.cleaned_data)
    return redirect(_member_url(member.pk, reason))


@agent_view
@require_POST
def member_unlock_view(request, member_id):
    def act(member, data):
        was_locked = services.member_unlock(
            agent=request.user,
            member=member,
            reason=data["reason"],
            note=data["note"],
            client_ip=security.client_ip(request),
            now=timezone.now(),
        )
        if was_locked:
            messages.success(
                request,
                _("Le compte est débloqué. L'assuré en est informé par e-mail s'il a confirmé son adresse."),
            )
        else:
            messages.info(request, _("Le compte n'était pas bloqué : rien n'a changé."))

    return _member_action(request, member_id, prefix="unlock", act=act)


@agent_view
@require_POST
def member_code_view(request, member_id):
    def act(member, data):
        try:
            code = services.member_provisional_code_send(
                agent=request.user,
                member=member,
                reason=data["reason"],
                note=data["note"],
                client_ip=security.client_ip(request),
                now=timezone.now(),
            )
        except services.MemberNotEligible:
            messages.error(
                request,
                _(
                    "Cet assuré relève d'un autre régime : il ne peut pas utiliser le portail, "
                    "aucun code n'est envoyé."
                ),
            )
            return
        messages.success(
            request,
            _(
                "Un nouveau code provisoire part par courrier à l'adresse connue, valable jusqu'au %(date)s. "
                "Le code précédent ne fonctionne plus."
            )
            % {"date": f"{timezone.localtime(code.expires_at):%d/%m/%Y}"},
        )

    return _member_action(request, member_id, prefix="code", act=act)


# --- Letters ------------------------------------------------------------------------------


@agent_view(role=AgentRole.SUPERVISOR)
def letters_view(request):
    return render(request, "backoffice/letters.html", {"queue": selectors.letter_queue()})


@agent_view(role=AgentRole.SUPERVISOR)
@require_POST
def letters_export_view(request):
    try:
        batch = services.letters_batch_export(agent=request.user, client_ip=security.client_ip(request))
    except RuntimeError:
        messages.error(request, _("Des courriers ont changé pendant l'export : rien n'a été exporté, recommencez."))
        return redirect("backoffice:letters")
    if batch is None:
        messages.info(request, _("Aucun courrier à imprimer : aucun lot n'a été créé."))
        return redirect("backoffice:letters")
    messages.success(
        request,
        ngettext(
            "Lot n° %(id)s créé : %(count)s courrier. Téléchargez le PDF et le manifeste ci-dessous.",
            "Lot n° %(id)s créé : %(count)s courriers. Téléchargez le PDF et le manifeste ci-dessous.",
            batch.letter_count,
        )
        % {"id": batch.pk, "count": batch.letter_count},
    )
    return redirect(f"{reverse('backoffice:letters')}#lot-{batch.pk}")


BATCH_FILES = {"pdf": ("pdf_file", "application/pdf", "pdf"), "manifeste": ("manifest_file", "text/csv", "csv")}


@agent_view(role=AgentRole.SUPERVISOR)
def batch_download_view(request, batch_id, what):
    batch = get_object_or_404(PrintBatch, pk=batch_id)
    attribute, content_type, extension = BATCH_FILES[what]
    path: Path | None = getattr(batch, attribute)
    root = Path(settings.PORTAIL_PRINT_BATCHES_DIR).resolve()
    if path is None or not path.resolve().is_relative_to(root) or not path.is_file():
        raise Http404
    services.letters_batch_download_record(
        agent=request.user, batch=batch, what=what, client_ip=security.client_ip(request)
    )
    return FileResponse(
        path.open("rb"), as_attachment=True, filename=f"lot-{batch.pk}.{extension}", content_type=content_type
    )


@agent_view(role=AgentRole.SUPERVISOR)
@require_POST
def batch_posted_view(request, batch_id):
    get_object_or_404(PrintBatch, pk=batch_id)
    batch = services.letters_batch_mark_posted(
        agent=request.user, batch_id=batch_id, client_ip=security.client_ip(request)
    )
    messages.success(
        request,
        _("Lot n° %(id)s remis à La Poste le %(date)s : ses courriers sont marqués envoyés.")
        % {"id": batch.pk, "date": f"{timezone.localtime(batch.posted_at):%d/%m/%Y %H:%M}"},
    )
    return redirect("backoffice:letters")


# --- Feeds --------------------------------------------------------------------------------


@agent_view(role=AgentRole.SUPERVISOR)
def feeds_view(request):
    return render(
        request,
        "backoffice/feeds.html",
        {
            "register_runs": ImportRun.objects.select_related("fund").order_by("-started_at", "-pk")[:FEED_RUNS_SHOWN],
            "payment_runs": PaymentImportRun.objects.order_by("-started_at", "-pk")[:FEED_RUNS_SHOWN],
        },
    )


@agent_view(role=AgentRole.SUPERVISOR)
def register_run_view(request, run_id):
    run = get_object_or_404(ImportRun.objects.select_related("fund"), pk=run_id)
    return render(request, "backoffice/register_run.html", {"run": run})


@agent_view(role=AgentRole.SUPERVISOR)
def payment_run_view(request, run_id):
    run = get_object_or_404(PaymentImportRun, pk=run_id)
    return render(request, "backoffice/payment_run.html", {"run": run})


# --- Audit log ----------------------------------------------------------------------------


def _audit_filters(form) -> dict | None:
    """Selector arguments from a valid filter form, or None when the NIR (or member id) matches nobody."""
    data = form.cleaned_data
    member = None
    if data.get("nir") is not None:
        member = Member.objects.filter(nir=data["nir"].number).first()
    elif data.get("membre"):
        member = Member.objects.filter(pk=data["membre"]).first()
    if member is None and (data.get("nir") is not None or data.get("membre")):
        return None
    return {
        "agent": data.get("agent"),
        "member": member,
        "date_from": data.get("date_from"),
        "date_to": data.get("date_to"),
    }


@agent_view(role=AgentRole.SUPERVISOR)
def audit_view(request):
    form = AuditFilterForm(request.GET or None)
    page, member = None, None
    if not request.GET or form.is_valid():
        filters = _audit_filters(form) if request.GET else {}
        if filters is None:
            form.add_error("nir", _("Aucun assuré n'a ce numéro de sécurité sociale."))
        elif request.GET and form.cleaned_data.get("nir") is not None:
            # Found by NIR: the same filters by member id, so the NIR stays out of every link of the page.
            query = request.GET.copy()
            query.pop("nir", None)
            query.pop("page", None)
            query["membre"] = filters["member"].pk
            return redirect(f"{reverse('backoffice:audit')}?{query.urlencode()}")
        else:
            member = filters.get("member")
            page = Paginator(selectors.audit_entries(**filters), AUDIT_PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "backoffice/audit.html",
        {
            "form": form,
            "page": page,
            "member": member,
            "query": query.urlencode(),
            "can_export": request.agent_role.is_administrator,
        },
    )


class _Echo:
    def write(self, value):
        return value


_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _cell(value) -> str:
    """A CSV cell a spreadsheet will not run as a formula."""
    text = "" if value is None else str(value)
    return f"'{text}" if text.startswith(_FORMULA_START) else text


AUDIT_CSV_COLUMNS = [
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


def _audit_rows(entries):
    writer = csv.writer(_Echo(), lineterminator="\n")
    yield "\ufeff" + writer.writerow(AUDIT_CSV_COLUMNS)
    for entry in entries.iterator(chunk_size=2000):
        member = entry.member
        yield writer.writerow(
            [
                _cell(value)
                for value in (
                    timezone.localtime(entry.created_at).isoformat(timespec="seconds"),
                    entry.agent.get_username(),
                    entry.agent.get_full_name(),
                    entry.get_action_display(),
                    entry.get_reason_display() if entry.reason else "",
                    member.pk if member else "",
                    member.nir_masked if member else "",
                    entry.detail,
                    entry.client_ip or "",
                )
            ]
        )


@agent_view(role=AgentRole.ADMINISTRATOR)
def audit_export_view(request):
    form = AuditFilterForm(request.GET or None)
    filters = {}
    if request.GET and (not form.is_valid() or (filters := _audit_filters(form)) is None):
        # The audit page says what is wrong with the filters.
        return redirect(f"{reverse('backoffice:audit')}?{request.GET.urlencode()}")
    described = ", ".join(
        f"{name} = {value.nir_masked if name == 'member' else value}" for name, value in filters.items() if value
    )
    services.agent_access_record(
        agent=request.user,
        action=AgentAction.AUDIT_EXPORTED,
        detail=f"filtres : {described}" if described else "sans filtre",
        client_ip=security.client_ip(request),
    )
    response = StreamingHttpResponse(
        _audit_rows(selectors.audit_entries(**filters)), content_type="text/csv; charset=utf-8"
    )
    response["Content-Disposition"] = f'attachment; filename="journal-acces-{timezone.localtime():%Y%m%d-%H%M}.csv"'
    return response
