from django.urls import path

from kompass.contract import protocol_views, reauth, views

app_name = "contract"

urlpatterns = [
    path("", views.ContractListView.as_view(), name="contract_list"),
    path("new/", views.ContractEditView.as_view(), name="contract_create"),
    path("<int:pk>/", views.ContractDetailView.as_view(), name="contract_detail"),
    path("<int:pk>/edit/", views.ContractEditView.as_view(), name="contract_edit"),
    path("<int:contract_pk>/milestones/new/", views.MilestoneEditView.as_view(), name="milestone_create"),
    path("milestones/<int:pk>/edit/", views.MilestoneEditView.as_view(), name="milestone_edit"),
    path("<int:pk>/requirements/", views.RequirementListView.as_view(), name="requirement_list"),
    path("<int:pk>/requirements/bulk-status/", views.BulkStatusView.as_view(), name="bulk_status"),
    path("<int:pk>/overdue/", views.OverdueView.as_view(), name="overdue"),
    path("<int:pk>/import/", views.ImportUploadView.as_view(), name="import_upload"),
    path("<int:pk>/import/<int:batch_pk>/", views.ImportPreviewView.as_view(), name="import_preview"),
    path("<int:pk>/import/<int:batch_pk>/apply/", views.ImportApplyView.as_view(), name="import_apply"),
    path("<int:pk>/export.xlsx", views.ExportView.as_view(), name="export"),
    path("requirements/<int:pk>/", views.RequirementDetailView.as_view(), name="requirement_detail"),
    path("requirements/<int:pk>/status/", views.StatusView.as_view(), name="requirement_status"),
    path("requirements/<int:pk>/evidence/", views.EvidenceView.as_view(), name="requirement_evidence"),
    path("requirements/<int:pk>/comment/", views.CommentView.as_view(), name="requirement_comment"),
    path("<int:pk>/protocols/new/", protocol_views.ProtocolCreateView.as_view(), name="protocol_create"),
    path("protocols/<int:pk>/", protocol_views.ProtocolDetailView.as_view(), name="protocol_detail"),
    path("protocols/<int:pk>/reauthenticate/", reauth.ProtocolReauthView.as_view(), name="protocol_reauth"),
    path("protocols/<int:pk>/pdf/", protocol_views.ProtocolPdfView.as_view(), name="protocol_pdf"),
]
