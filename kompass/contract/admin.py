"""The register in Django's admin. Signed protocols are read-only there too (the models refuse anyway)."""

from django.contrib import admin

from kompass.contract.models import (
    ApprovalProtocol,
    Contract,
    Evidence,
    Milestone,
    ProtocolApproval,
    ProtocolEntry,
    Requirement,
)


class MilestoneInline(admin.TabularInline):
    model = Milestone
    extra = 0


@admin.register(Contract)
class ContractAdmin(admin.ModelAdmin):
    list_display = ["name", "vendor_name", "agreement_type", "takeover_on"]
    filter_horizontal = ["vendor_representatives"]
    inlines = [MilestoneInline]


@admin.register(Requirement)
class RequirementAdmin(admin.ModelAdmin):
    list_display = ["requirement_id", "contract", "chapter", "status", "milestone"]
    list_filter = ["contract", "status", "milestone"]
    search_fields = ["requirement_id", "text"]


@admin.register(Evidence)
class EvidenceAdmin(admin.ModelAdmin):
    list_display = ["title", "kind", "requirement", "added_by", "added"]


class _ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class ApprovalInline(_ReadOnlyInline):
    model = ProtocolApproval
    fields = ["party", "user", "approved_at", "digest"]
    readonly_fields = fields


class EntryInline(_ReadOnlyInline):
    model = ProtocolEntry
    fields = ["requirement_id", "status", "verification_method", "evidence"]
    readonly_fields = fields


@admin.register(ApprovalProtocol)
class ApprovalProtocolAdmin(admin.ModelAdmin):
    """Protocols are made and signed in the app; the admin only shows them and never changes a signed one."""

    list_display = ["contract", "milestone", "version", "status", "signed_at"]
    readonly_fields = ["contract", "milestone", "version", "status", "created_by", "signed_at", "pdf", "sha256"]
    inlines = [ApprovalInline, EntryInline]

    def has_add_permission(self, request):
        return False

    def get_actions(self, request):
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)  # a bulk delete would reach signed protocols
        return actions

    def has_change_permission(self, request, obj=None):
        return super().has_change_permission(request, obj) and not (obj and obj.is_signed)

    def has_delete_permission(self, request, obj=None):
        return super().has_delete_permission(request, obj) and not (obj and obj.is_signed)
