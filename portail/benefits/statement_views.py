"""Monthly statements in the member space: the list, one statement (HTML), its PDF, a paper duplicate.

Every statement is looked up among the member's own statements still online
(`statements_online`): another member's id, or a statement older than the
keep window, is a 404.
"""

from django.conf import settings
from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from portail.accounts.decorators import member_view
from portail.benefits import statements as services
from portail.benefits.statement_pdf import legend


def _online_statement(request, statement_id):
    queryset = services.statements_online(member=request.member, today=timezone.localdate())
    return get_object_or_404(queryset.select_related("member"), pk=statement_id)


@member_view
def statement_list_view(request):
    today = timezone.localdate()
    statements = list(services.statements_online(member=request.member, today=today))
    sizes = services.statement_pdf_kilobytes(statements=statements)
    rows = [{"statement": statement, "pdf_kilobytes": sizes[statement.pk]} for statement in statements]
    return render(
        request,
        "benefits/statement_list.html",
        {
            "rows": rows,
            "keep_months": settings.PORTAIL_STATEMENTS_KEEP_MONTHS,
            "keep_since": services.statements_keep_since(today=today),
        },
    )


@member_view
def statement_view(request, statement_id):
    statement = _online_statement(request, statement_id)
    detail = services.statement_detail(statement=statement)
    return render(
        request,
        "benefits/statement_detail.html",
        {
            "detail": detail,
            "statement": statement,
            "member": detail.member,
            "legend": legend(),
            "pdf_kilobytes": services.statement_detail_pdf_kilobytes(detail=detail),
            "postal_delay": services.POSTAL_DELAY_TEXT,
        },
    )


@member_view
def statement_pdf_view(request, statement_id):
    statement = _online_statement(request, statement_id)
    detail = services.statement_detail(statement=statement)
    response = HttpResponse(services.statement_pdf_bytes(detail=detail), content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{detail.file_name}"'
    response["Cache-Control"] = "private, no-store"
    return response


@require_POST
@member_view
def statement_duplicate_view(request, statement_id):
    statement = _online_statement(request, statement_id)
    member = statement.member
    try:
        services.statement_duplicate_request(statement=statement, now=timezone.now())
    except services.DuplicateLimitReached as limit:
        messages.info(
            request,
            _(
                "Vous avez déjà demandé beaucoup de duplicatas ces 30 derniers jours. Vous pourrez en demander "
                "un nouveau à partir du %(date)s. En cas de besoin urgent, appelez votre caisse au %(phone)s."
            )
            % {"date": f"{limit.available_on:%d/%m/%Y}", "phone": settings.PORTAIL_FUND_PHONE},
        )
    else:
        address = ", ".join(
            part
            for part in (member.address_line1, member.address_line2, f"{member.postal_code} {member.city}")
            if part.strip()
        )
        messages.success(
            request,
            _(
                "C'est noté : le duplicata de votre relevé de %(month)s part par courrier. "
                "Il arrivera %(delay)s, à l'adresse : %(address)s."
            )
            % {
                "month": services.month_label(statement.month),
                "delay": services.POSTAL_DELAY_TEXT,
                "address": address,
            },
        )
    return redirect("benefits:statement", statement_id=statement.pk)
