"""Read-only views of letters, print batches and e-mails for agents: no secret is ever shown."""

from django.contrib import admin

from portail.post.models import Email, Letter, PrintBatch


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Letter)
class LetterAdmin(ReadOnlyAdmin):
    list_display = ["id", "kind", "recipient_name", "recipient_postal_code", "status", "created_at", "batch"]
    list_filter = ["status", "kind"]
    search_fields = ["recipient_name", "recipient_postal_code", "recipient_city"]
    date_hierarchy = "created_at"
    list_select_related = ["batch"]
    # secret_context is deliberately absent; the member is shown by id only (its label holds a masked NIR).
    fields = [
        "kind",
        "status",
        "member",
        "recipient_name",
        "recipient_address_line1",
        "recipient_address_line2",
        "recipient_postal_code",
        "recipient_city",
        "context",
        "pdf_path",
        "page_count",
        "batch",
        "created_at",
        "rendered_at",
        "batched_at",
        "posted_at",
    ]
    readonly_fields = fields


@admin.register(PrintBatch)
class PrintBatchAdmin(ReadOnlyAdmin):
    list_display = ["id", "created_at", "created_by", "letter_count", "posted_at"]
    fields = ["created_at", "created_by", "letter_count", "pdf_path", "manifest_path", "posted_at"]
    readonly_fields = fields


@admin.register(Email)
class EmailAdmin(ReadOnlyAdmin):
    list_display = ["id", "to", "subject", "kind", "status", "attempts", "created_at", "sent_at"]
    list_filter = ["status", "kind"]
    search_fields = ["to", "subject"]
    date_hierarchy = "created_at"
    fields = ["to", "subject", "body", "kind", "member", "status", "attempts", "last_error", "created_at", "sent_at"]
    readonly_fields = fields
