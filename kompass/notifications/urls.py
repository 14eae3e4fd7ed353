from django.urls import path

from kompass.notifications import views

app_name = "notifications"

urlpatterns = [
    path("", views.InboxView.as_view(), name="inbox"),
    path("<int:pk>/read/", views.MarkReadView.as_view(), name="mark_read"),
    path("read-all/", views.MarkAllReadView.as_view(), name="mark_all_read"),
    path("ledger/", views.DeliveryListView.as_view(), name="delivery_list"),
    path("ledger/test/", views.TestMessageView.as_view(), name="test_message"),
    path("ledger/<int:pk>/", views.DeliveryDetailView.as_view(), name="delivery_detail"),
    path("ledger/<int:pk>/retry/", views.DeliveryRetryView.as_view(), name="delivery_retry"),
]
