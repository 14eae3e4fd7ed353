from django import forms
from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.forms import AdminUserCreationForm, UserChangeForm
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from kompass.core import durable
from kompass.core.models import (
    Agency,
    ApiToken,
    Organisation,
    RoleAssignment,
    ScheduledJob,
    Service,
    System,
    User,
)


class RoleAssignmentInline(admin.TabularInline):
    model = RoleAssignment
    extra = 0
    autocomplete_fields = ["agency"]


class KompassUserCreationForm(AdminUserCreationForm):
    class Meta:
        model = User
        fields = ["email", "full_name"]


class KompassUserChangeForm(UserChangeForm):
    class Meta:
        model = User
        fields = "__all__"
        field_classes = {"email": forms.EmailField}


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    add_form = KompassUserCreationForm
    form = KompassUserChangeForm
    ordering = ["email"]
    list_display = ["email", "full_name", "is_active", "is_staff"]
    search_fields = ["email", "full_name"]
    inlines = [RoleAssignmentInline]
    fieldsets = [
        (None, {"fields": ["email", "password"]}),
        (_("Profile"), {"fields": ["full_name", "title", "phone", "external_id"]}),
        (_("Permissions"), {"fields": ["is_active", "is_staff", "is_superuser"]}),
    ]
    add_fieldsets = [
        (None, {"classes": ["wide"], "fields": ["email", "full_name", "usable_password", "password1", "password2"]})
    ]
    list_filter = ["is_active", "is_staff", "is_superuser"]
    filter_horizontal = []


@admin.register(Agency)
class AgencyAdmin(admin.ModelAdmin):
    list_display = ["name", "short_code", "kind", "active"]
    search_fields = ["name", "short_code"]
    list_filter = ["kind", "active"]


@admin.register(System)
class SystemAdmin(admin.ModelAdmin):
    list_display = ["name", "agency", "criticality"]
    search_fields = ["name"]
    list_filter = ["criticality"]


admin.site.register(Organisation)
admin.site.register(Service)
admin.site.register(ApiToken, list_display=["name", "user", "prefix", "created", "expires", "last_used"])


@admin.register(ScheduledJob)
class ScheduledJobAdmin(admin.ModelAdmin):
    """Read-only: the scheduler writes these rows; here an operator reads a job's last error."""

    list_display = ["name", "schedule", "last_status", "last_run_at", "next_run_at", "last_duration"]
    list_filter = ["last_status"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.action(description=_("Retry the selected dead rows"), permissions=["change"])
def retry_dead_rows(modeladmin, request, queryset):
    """Admin action for any ``DurableWork`` model: ``actions = [retry_dead_rows]`` in the app's admin."""
    revived = durable.retry(queryset)
    message = ngettext("%(count)d dead row is pending again.", "%(count)d dead rows are pending again.", revived)
    modeladmin.message_user(request, message % {"count": revived})
