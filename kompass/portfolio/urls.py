from django.urls import path

from kompass.portfolio import views

app_name = "portfolio"

urlpatterns = [
    path("", views.SystemListView.as_view(), name="system_list"),
    path("systems/<int:pk>/", views.SystemDetailView.as_view(), name="system_detail"),
    path("systems/<int:pk>/profile/", views.ProfileEditView.as_view(), name="profile_edit"),
    path("systems/<int:pk>/transformation/", views.TransformationEditView.as_view(), name="transformation_edit"),
    path("integrations/", views.IntegrationListView.as_view(), name="integration_list"),
    path("integrations/new/", views.IntegrationRequestView.as_view(), name="integration_request"),
    path("integrations/<int:pk>/", views.IntegrationDetailView.as_view(), name="integration_detail"),
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
    path("transformation/", views.TransformationView.as_view(), name="transformation"),
]
