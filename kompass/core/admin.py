from django import forms
from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.forms import AdminUserCreationForm, UserChangeForm
from django.utils.translation import gettext_lazy as _

from kompass.core.models import Agency, ApiToken, Organisation, RoleAssignment, Service, System, User


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
