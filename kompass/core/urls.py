from django.urls import path

from kompass.core.views import account, auth, health, pages, tokens, users

app_name = "core"

urlpatterns = [
    path("", pages.HomeView.as_view(), name="home"),
    path("login/", auth.LoginView.as_view(), name="login"),
    path("logout/", auth.LogoutView.as_view(), name="logout"),
    path("healthz", health.healthz, name="healthz"),
    path("agencies/", pages.AgencyListView.as_view(), name="agency_list"),
    path("agencies/new/", pages.AgencyEditView.as_view(), name="agency_create"),
    path("agencies/<int:pk>/", pages.AgencyDetailView.as_view(), name="agency_detail"),
    path("agencies/<int:pk>/edit/", pages.AgencyEditView.as_view(), name="agency_edit"),
    path("services/", pages.ServiceListView.as_view(), name="service_list"),
    path("services/new/", pages.ServiceEditView.as_view(), name="service_create"),
    path("services/<int:pk>/", pages.ServiceDetailView.as_view(), name="service_detail"),
    path("services/<int:pk>/edit/", pages.ServiceEditView.as_view(), name="service_edit"),
    path("systems/", pages.SystemListView.as_view(), name="system_list"),
    path("systems/new/", pages.SystemEditView.as_view(), name="system_create"),
    path("systems/<int:pk>/", pages.SystemDetailView.as_view(), name="system_detail"),
    path("systems/<int:pk>/edit/", pages.SystemEditView.as_view(), name="system_edit"),
    path("users/", users.UserListView.as_view(), name="user_list"),
    path("users/new/", users.UserEditView.as_view(), name="user_create"),
    path("users/<int:pk>/", users.UserDetailView.as_view(), name="user_detail"),
    path("users/<int:pk>/edit/", users.UserEditView.as_view(), name="user_edit"),
    path("tokens/", tokens.TokenListView.as_view(), name="token_list"),
    path("settings/", account.MySettingsView.as_view(), name="my_settings"),
    path("audit/", users.AuditLogView.as_view(), name="audit_log"),
    path("organisation/", users.OrganisationEditView.as_view(), name="organisation_edit"),
    path("branding.css", users.branding_css, name="branding_css"),
]
