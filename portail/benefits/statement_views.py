from django.shortcuts import render

from portail.accounts.decorators import member_view
from portail.benefits.models import Statement


@member_view
def statement_list_view(request):
    statements = Statement.objects.for_member(request.member)
    return render(request, "benefits/statement_list.html", {"statements": statements})
