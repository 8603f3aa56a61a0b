"""Admin for payments, statements, duplicates, feed sources and payment imports.

Payments are immutable once received, and statements, duplicates and import runs are records: all are
read-only here. A feed source's token is shown once, when created or renewed, and never again.
"""

from django.contrib import admin, messages
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.cache import add_never_cache_headers
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from portail.benefits.feed import feed_source_revoke, feed_source_token_renew, feed_token_generate
from portail.benefits.models import (
    ACT_FIELDS,
    DuplicateRequest,
    FeedSource,
    Payment,
    PaymentImportRun,
    PaymentLine,
    Statement,
)


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class MemberSearchMixin:
    """A full NIR typed in the search box finds its member's rows (the NIR itself is never displayed)."""

    member_path = "member"

    def get_search_results(self, request, queryset, search_term):
        from portail.registry.models import Member

        if search_term.strip():
            members = Member.objects.with_nir(search_term)
            if members.exists():
                return queryset.filter(**{f"{self.member_path}__in": members}), False
        return super().get_search_results(request, queryset, search_term)


class PaymentLineInline(admin.TabularInline):
    model = PaymentLine
    extra = 0
    can_delete = False
    fields = list(ACT_FIELDS)
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(Payment)
class PaymentAdmin(MemberSearchMixin, ReadOnlyAdmin):
    list_display = ["external_id", "member", "beneficiary", "paid_on", "amount", "payee", "received_at"]
    list_filter = ["payee", "paid_on"]
    search_fields = ["external_id", "member__last_name"]
    search_help_text = _("Référence du paiement, nom de l'assuré, ou numéro de sécurité sociale complet.")
    date_hierarchy = "paid_on"
    list_select_related = ["member", "beneficiary"]
    fields = ["external_id", "member", "beneficiary", "paid_on", "amount", "payee", "received_at"]
    readonly_fields = fields
    inlines = [PaymentLineInline]


@admin.register(Statement)
class StatementAdmin(MemberSearchMixin, ReadOnlyAdmin):
    list_display = ["member", "month", "delivery", "payment_count", "total_paid", "created_at"]
    list_filter = ["delivery", "month"]
    search_fields = ["member__last_name"]
    search_help_text = _("Nom de l'assuré, ou numéro de sécurité sociale complet.")
    list_select_related = ["member"]
    fields = ["member", "month", "delivery", "payment_count", "total_paid", "letter", "created_at"]
    readonly_fields = fields


@admin.register(DuplicateRequest)
class DuplicateRequestAdmin(MemberSearchMixin, ReadOnlyAdmin):
    member_path = "statement__member"
    list_display = ["statement", "member", "requested_at", "letter"]
    search_fields = ["statement__member__last_name"]
    search_help_text = _("Nom de l'assuré, ou numéro de sécurité sociale complet.")
    list_select_related = ["statement__member", "letter"]
    fields = ["statement", "requested_at", "letter"]
    readonly_fields = fields

    @admin.display(description=_("assuré"))
    def member(self, duplicate: DuplicateRequest):
        return duplicate.statement.member


@admin.register(PaymentImportRun)
class PaymentImportRunAdmin(ReadOnlyAdmin):
    list_display = [
        "source",
        "started_at",
        "finished_at",
        "lines_read",
        "created_count",
        "unchanged_count",
        "rejected_count",
    ]
    search_fields = ["source"]
    date_hierarchy = "started_at"
    fields = [
        "source",
        "started_at",
        "finished_at",
        "lines_read",
        "created_count",
        "unchanged_count",
        "rejected_count",
        "rejection_list",
    ]
    readonly_fields = fields

    @admin.display(description=_("lignes rejetées"))
    def rejection_list(self, run: PaymentImportRun):
        if not run.rejections:
            return "—"
        items = format_html_join("", "<li>{}</li>", ((rejection["reason"],) for rejection in run.rejections))
        more = run.rejected_count - len(run.rejections)
        suffix = (
            ngettext(
                "… et %(count)d autre ligne rejetée, non conservée.",
                "… et %(count)d autres lignes rejetées, non conservées.",
                more,
            )
            % {"count": more}
            if more > 0
            else ""
        )
        return format_html("<ul>{}</ul>{}", items, format_html("<p>{}</p>", suffix) if suffix else "")


@admin.register(FeedSource)
class FeedSourceAdmin(admin.ModelAdmin):
    """Sending systems. Adding one shows its token once; the actions renew (shown once) or revoke tokens."""

    list_display = ["name", "created_at", "revoked_at"]
    list_filter = [("revoked_at", admin.EmptyFieldListFilter)]
    search_fields = ["name"]
    actions = ["renew_tokens", "revoke_tokens"]
    # token_hash is never shown nor editable.
    fields = ["name", "created_at", "revoked_at"]

    def get_readonly_fields(self, request, obj=None):
        return ["created_at", "revoked_at"] if obj is None else ["name", "created_at", "revoked_at"]

    def get_fields(self, request, obj=None):
        return ["name"] if obj is None else self.fields

    def has_delete_permission(self, request, obj=None):
        return False  # revoke instead: the name stays in the import history

    def save_model(self, request, obj, form, change):
        if not change:
            token, obj.token_hash = feed_token_generate()
            request._feed_tokens = [(obj.name, token)]
        super().save_model(request, obj, form, change)

    def response_add(self, request, obj, post_url_continue=None):
        return self._tokens_response(request, getattr(request, "_feed_tokens", []))

    def _tokens_response(self, request, tokens):
        context = {
            **self.admin_site.each_context(request),
            "title": _("Jeton d'accès, affiché une seule fois"),
            "tokens": tokens,
            "changelist_url": reverse("admin:benefits_feedsource_changelist"),
            "opts": self.opts,
        }
        response = TemplateResponse(request, "admin/benefits/feedsource/token.html", context)
        add_never_cache_headers(response)
        return response

    @admin.action(description=_("Créer un nouveau jeton (l'ancien est refusé aussitôt)"), permissions=["change"])
    def renew_tokens(self, request, queryset):
        tokens = [(source.name, feed_source_token_renew(source=source)) for source in queryset.order_by("name")]
        return self._tokens_response(request, tokens)

    @admin.action(description=_("Révoquer le jeton"), permissions=["change"])
    def revoke_tokens(self, request, queryset):
        revoked = sum(feed_source_revoke(source=source) for source in queryset)
        self.message_user(
            request,
            ngettext("%(count)d jeton révoqué.", "%(count)d jetons révoqués.", revoked) % {"count": revoked},
            messages.SUCCESS,
        )
