from django.urls import path

from kompass.portfolio import views

app_name = "portfolio"

urlpatterns = [
    path("", views.SystemListView.as_view(), name="system_list"),
    path("systems/<int:pk>/", views.SystemDetailView.as_view(), name="system_detail"),
    path("systems/<int:pk>/profile/", views.ProfileEditView.as_view(), name="profile_edit"),
    path("systems/<int:pk>/transformation/", views.TransformationEditView.as_view(), name="transformation_edit"),
    path("systems/<int:pk>/infrastructure/new/", views.InfrastructureEditView.as_view(), name="infrastructure_create"),
    path("infrastructure/<int:item_pk>/", views.InfrastructureEditView.as_view(), name="infrastructure_edit"),
    path(
        "infrastructure/<int:item_pk>/delete/", views.InfrastructureDeleteView.as_view(), name="infrastructure_delete"
    ),
    path("waves/", views.WaveListView.as_view(), name="wave_list"),
    path("waves/new/", views.WaveEditView.as_view(), name="wave_create"),
    path("waves/<int:pk>/", views.WaveEditView.as_view(), name="wave_edit"),
    path("parties/", views.ExternalPartyListView.as_view(), name="party_list"),
    path("parties/new/", views.ExternalPartyEditView.as_view(), name="party_create"),
    path("parties/<int:pk>/", views.ExternalPartyDetailView.as_view(), name="party_detail"),
    path("parties/<int:pk>/edit/", views.ExternalPartyEditView.as_view(), name="party_edit"),
    path("data-sets/", views.DataSetListView.as_view(), name="data_set_list"),
    path("data-sets/new/", views.DataSetEditView.as_view(), name="data_set_create"),
    path("data-sets/<int:pk>/", views.DataSetDetailView.as_view(), name="data_set_detail"),
    path("data-sets/<int:pk>/edit/", views.DataSetEditView.as_view(), name="data_set_edit"),
    path("integrations/", views.IntegrationListView.as_view(), name="integration_list"),
    path("integrations/new/", views.IntegrationRequestView.as_view(), name="integration_request"),
    path("integrations/<int:pk>/", views.IntegrationDetailView.as_view(), name="integration_detail"),
    path("integrations/<int:pk>/edit/", views.IntegrationEditView.as_view(), name="integration_edit"),
    path("integrations/<int:pk>/decide/", views.IntegrationDecideView.as_view(), name="integration_decide"),
    path(
        "integrations/<int:pk>/activate/",
        views.IntegrationStepView.as_view(),
        {"step": "activate"},
        name="integration_activate",
    ),
    path(
        "integrations/<int:pk>/retire/",
        views.IntegrationStepView.as_view(),
        {"step": "retire"},
        name="integration_retire",
    ),
    path("map/", views.MapView.as_view(), name="map"),
    path("import/<slug:kind>/", views.ImportUploadView.as_view(), name="import_upload"),
    path("import/<slug:kind>/<int:batch_pk>/", views.ImportPreviewView.as_view(), name="import_preview"),
    path("import/<slug:kind>/<int:batch_pk>/apply/", views.ImportApplyView.as_view(), name="import_apply"),
    path("transformation/", views.TransformationView.as_view(), name="transformation"),
]
