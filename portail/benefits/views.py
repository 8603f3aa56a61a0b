from django.shortcuts import render

from portail.accounts.decorators import member_view


@member_view
def payments_view(request):
    return render(request, "benefits/payments.html", {})


@member_view
def doctor_view(request):
    return render(request, "benefits/doctor.html", {"member": request.member})
