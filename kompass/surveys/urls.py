from django.urls import path

from kompass.surveys import views

app_name = "surveys"

urlpatterns = [
    path("", views.HeatmapView.as_view(), name="heatmap"),
    path("a/<str:token>/", views.AnswerView.as_view(), name="answer"),
    path("agencies/<int:pk>/", views.AgencyResultsView.as_view(), name="agency_results"),
    path("agencies/<int:pk>/cockpit/", views.CockpitView.as_view(), name="cockpit"),
    path("agencies/<int:pk>/report.pdf", views.AgencyPdfView.as_view(), name="agency_pdf"),
    path("side-by-side/", views.SideBySideView.as_view(), name="side_by_side"),
    path("export.xlsx", views.ExportView.as_view(), name="export"),
    path("campaigns/", views.CampaignListView.as_view(), name="campaign_list"),
    path("campaigns/new/", views.CampaignCreateView.as_view(), name="campaign_create"),
    path("campaigns/<int:pk>/", views.CampaignDetailView.as_view(), name="campaign_detail"),
    path("campaigns/<int:pk>/<str:step>/", views.CampaignStepView.as_view(), name="campaign_step"),
    path("actions/", views.ActionListView.as_view(), name="action_list"),
    path("actions/<int:pk>/", views.ActionDetailView.as_view(), name="action_detail"),
    path("actions/<int:pk>/close/", views.ActionCloseView.as_view(), name="action_close"),
    path("meetings/", views.MeetingListView.as_view(), name="meeting_list"),
    path("meetings/new/", views.MeetingEditView.as_view(), name="meeting_create"),
    path("meetings/<int:pk>/", views.MeetingDetailView.as_view(), name="meeting_detail"),
    path("meetings/<int:pk>/edit/", views.MeetingEditView.as_view(), name="meeting_edit"),
    path("meetings/<int:pk>/invite/", views.MeetingInviteView.as_view(), name="meeting_invite"),
    path("meetings/<int:pk>/attendance/", views.MeetingAttendanceView.as_view(), name="meeting_attendance"),
    path("templates/", views.TemplateListView.as_view(), name="template_list"),
    path("templates/new/", views.TemplateEditView.as_view(), name="template_create"),
    path("templates/<int:pk>/", views.TemplateDetailView.as_view(), name="template_detail"),
    path("templates/<int:pk>/edit/", views.TemplateEditView.as_view(), name="template_edit"),
    path("rules/", views.RuleListView.as_view(), name="rule_list"),
    path("rules/new/", views.RuleEditView.as_view(), name="rule_create"),
    path("rules/<int:pk>/edit/", views.RuleEditView.as_view(), name="rule_edit"),
    path("rules/<int:pk>/delete/", views.RuleDeleteView.as_view(), name="rule_delete"),
    path("tags/", views.TagListView.as_view(), name="tag_list"),
    path("tags/new/", views.TagCreateView.as_view(), name="tag_create"),
    path("agencies/<int:pk>/comments/tag/", views.TagCommentView.as_view(), name="tag_comment"),
]
