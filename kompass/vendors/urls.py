from django.urls import path

from kompass.vendors import views

app_name = "vendors"

urlpatterns = [
    path("", views.ConnectionListView.as_view(), name="connection_list"),
    path("new/", views.ConnectionEditView.as_view(), name="connection_create"),
    path("<int:pk>/", views.ConnectionDetailView.as_view(), name="connection_detail"),
    path("<int:pk>/edit/", views.ConnectionEditView.as_view(), name="connection_edit"),
    path("<int:pk>/check/", views.ConnectionCheckView.as_view(), name="connection_check"),
    path("<int:pk>/reconcile/", views.ReconcileView.as_view(), name="connection_reconcile"),
    path("links/", views.LinkListView.as_view(), name="link_list"),
    path("links/<int:pk>/", views.LinkDetailView.as_view(), name="link_detail"),
    path("links/<int:pk>/retry/", views.LinkRetryView.as_view(), name="link_retry"),
    path("dead-letters/", views.DeadLetterListView.as_view(), name="dead_letters"),
    path("send/<int:case_pk>/", views.SendToVendorView.as_view(), name="send_to_vendor"),
    path("routes/", views.RouteListView.as_view(), name="route_list"),
    path("routes/new/", views.RouteEditView.as_view(), name="route_create"),
    path("routes/<int:pk>/edit/", views.RouteEditView.as_view(), name="route_edit"),
    path("health/", views.HealthView.as_view(), name="health"),
    path("health.json", views.HealthJsonView.as_view(), name="health_json"),
]
