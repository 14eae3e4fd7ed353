from django.urls import path

from kompass.cases import views

app_name = "cases"

urlpatterns = [
    path("", views.CaseListView.as_view(), name="case_list"),
    path("bulk/", views.BulkView.as_view(), name="case_bulk"),
    path("export.<str:fmt>", views.ExportView.as_view(), name="case_export"),
    path("saved-filters/", views.SavedFilterCreateView.as_view(), name="saved_filter_create"),
    path("saved-filters/<int:pk>/delete/", views.SavedFilterDeleteView.as_view(), name="saved_filter_delete"),
    path("portal/", views.PortalView.as_view(), name="portal"),
    path("new/", views.CaseCreateView.as_view(), name="case_create"),
    path("<int:pk>/", views.CaseDetailView.as_view(), name="case_detail"),
    path("<int:pk>/reply/", views.ReplyView.as_view(), name="case_reply"),
    path("<int:pk>/note/", views.NoteView.as_view(), name="case_note"),
    path("<int:pk>/transition/", views.TransitionView.as_view(), name="case_transition"),
    path("<int:pk>/assign/", views.AssignView.as_view(), name="case_assign"),
    path("<int:pk>/reopen/", views.ReopenView.as_view(), name="case_reopen"),
    path("<int:pk>/rate/", views.RateView.as_view(), name="case_rate"),
    path("answer/<str:token>/", views.ResolutionAnswerView.as_view(), name="resolution_answer"),
    path("attachments/<int:pk>/", views.AttachmentView.as_view(), name="attachment"),
]
