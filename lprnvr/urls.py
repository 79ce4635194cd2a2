from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from accounts.api.urls import auth_urlpatterns, users_urlpatterns
from lprnvr.monitoring import views as metrics_views

from . import views

handler400 = "lprnvr.errors.bad_request"
handler403 = "lprnvr.errors.permission_denied"
handler404 = "lprnvr.errors.page_not_found"
handler500 = "lprnvr.errors.server_error"

urlpatterns = [
    path("admin/", admin.site.urls),
    path("i18n/", include("django.conf.urls.i18n")),
    path("health", views.HealthView.as_view(), name="health"),
    path("stats", views.StatsView.as_view(), name="stats"),
    path("metrics", metrics_views.metrics, name="metrics"),
    path("api/auth/", include(auth_urlpatterns)),
    *users_urlpatterns,
    path("api/", include("recordings.api.urls")),  # seed 002's /api/cameras/stream* and /api/nvr/*
    path("api/cameras/", include("cameras.api.urls")),
    path("", include("plates.api.urls")),
    path("api/alerts/", include("lprnvr.alerts.api.urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="docs"),
]
