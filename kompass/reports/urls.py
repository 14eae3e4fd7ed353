from django.urls import path

from kompass.reports import views

app_name = "reports"

urlpatterns = [
    path("", views.ScorecardView.as_view(), name="scorecard"),
    path("agencies/", views.AgencyFiguresView.as_view(), name="agencies"),
    path("drill/", views.DrillView.as_view(), name="drill"),
    path("levels/", views.VersionListView.as_view(), name="version_list"),
    path("levels/new/", views.VersionEditView.as_view(), name="version_create"),
    path("levels/<int:pk>/", views.VersionDetailView.as_view(), name="version_detail"),
    path("levels/<int:pk>/edit/", views.VersionEditView.as_view(), name="version_edit"),
    path("levels/<int:pk>/copy/", views.VersionCopyView.as_view(), name="version_copy"),
    path("levels/<int:version>/case-levels/new/", views.CaseLevelEditView.as_view(), name="case_level_create"),
    path("case-levels/<int:pk>/edit/", views.CaseLevelEditView.as_view(), name="case_level_edit"),
    path("case-levels/<int:pk>/delete/", views.CaseLevelDeleteView.as_view(), name="case_level_delete"),
    path(
        "levels/<int:version>/availability/new/",
        views.AvailabilityLevelEditView.as_view(),
        name="availability_level_create",
    ),
    path("availability/<int:pk>/edit/", views.AvailabilityLevelEditView.as_view(), name="availability_level_edit"),
    path(
        "availability/<int:pk>/delete/", views.AvailabilityLevelDeleteView.as_view(), name="availability_level_delete"
    ),
    path("exclusions/", views.ExclusionListView.as_view(), name="exclusion_list"),
    path("exclusions/new/", views.ExclusionEditView.as_view(), name="exclusion_create"),
    path("outages/new/", views.OutageEditView.as_view(), name="outage_create"),
    path("statements/", views.StatementListView.as_view(), name="statement_list"),
    path("statements/<int:pk>/", views.StatementDetailView.as_view(), name="statement_detail"),
    path("statements/<int:pk>/adjust/", views.AdjustView.as_view(), name="statement_adjust"),
    path("lines/<int:pk>/accept/", views.LineAcceptView.as_view(), name="line_accept"),
    path("lines/<int:pk>/dispute/", views.LineDisputeView.as_view(), name="line_dispute"),
    path("disputes/<int:pk>/answer/", views.DisputeAnswerView.as_view(), name="dispute_answer"),
    path("disputes/<int:pk>/resolve/", views.DisputeResolveView.as_view(), name="dispute_resolve"),
    path("contracts/<int:contract>/generate/", views.BuildView.as_view(), name="generate"),
    path("monthly/", views.ReportListView.as_view(), name="report_list"),
    path("monthly/<int:pk>/", views.ReportDetailView.as_view(), name="report_detail"),
    path("monthly/<int:pk>/<str:kind>/", views.ReportFileView.as_view(), name="report_file"),
]
