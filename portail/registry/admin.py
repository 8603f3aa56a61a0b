from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from portail.registry.models import Beneficiary, Fund, ImportRun, Member


@admin.register(Fund)
class FundAdmin(admin.ModelAdmin):
    list_display = ["code", "name"]
    search_fields = ["code", "name"]


class BeneficiaryInline(admin.TabularInline):
    model = Beneficiary
    extra = 0


@admin.register(Member)
class MemberAdmin(admin.ModelAdmin):
    list_display = ["masked_nir", "last_name", "first_names", "birth_date", "postal_code", "city", "scheme", "fund"]
    list_filter = ["scheme", "fund", "statements_to_complementary"]
    # Search by name; a full NIR typed in the search box also finds its member (see get_search_results).
    search_fields = ["last_name", "first_names"]
    search_help_text = _("Nom, prénom, ou numéro de sécurité sociale complet.")
    list_select_related = ["fund"]
    readonly_fields = ["created_at", "updated_at"]
    inlines = [BeneficiaryInline]

    @admin.display(description=_("numéro de sécurité sociale"), ordering="nir")
    def masked_nir(self, member: Member) -> str:
        return member.nir_masked

    def get_search_results(self, request, queryset, search_term):
        by_nir = queryset.with_nir(search_term) if search_term.strip() else queryset.none()
        if by_nir.exists():
            return by_nir, False
        return super().get_search_results(request, queryset, search_term)


@admin.register(Beneficiary)
class BeneficiaryAdmin(admin.ModelAdmin):
    list_display = ["last_name", "first_names", "birth_date", "member"]
    search_fields = ["last_name", "first_names", "member__last_name"]
    list_select_related = ["member"]
    raw_id_fields = ["member"]


@admin.register(ImportRun)
class ImportRunAdmin(admin.ModelAdmin):
    list_display = [
        "file_name",
        "started_at",
        "status",
        "created_count",
        "updated_count",
        "unchanged_count",
        "rejected_count",
    ]
    list_filter = ["status"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
