from django.urls import path

from kompass.vendors import views

app_name = "vendors"

urlpatterns = [
    path("", views.ConnectionListView.as_view(), name="connection_list"),
    path("new/", views.ConnectionEditView.as_view(), name="connection_create"),
    path("<int:pk>/", views.ConnectionDetailView.as_view(), name="connection_detail"),
    path("<int:pk>/edit/", views.ConnectionEditView.as_view(), name="connection_edit"),
    path("<int:pk>/check/", views.ConnectionCheckView.as_view(), name="connection_check"),
]
