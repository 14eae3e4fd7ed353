from django.conf import settings
from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("", include("kompass.core.urls")),
    path("vendors/", include("kompass.vendors.urls")),
    path("api/", include("kompass.core.api.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("django-admin/", admin.site.urls),
]

if settings.OIDC_ENABLED:
    urlpatterns.append(path("oidc/", include("mozilla_django_oidc.urls")))

handler400 = "kompass.core.views.errors.bad_request"
handler403 = "kompass.core.views.errors.permission_denied"
handler404 = "kompass.core.views.errors.page_not_found"
handler500 = "kompass.core.views.errors.server_error"
