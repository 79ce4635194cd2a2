from django.urls import path
from rest_framework.routers import SimpleRouter

from . import discovery, views

router = SimpleRouter(trailing_slash=True)
router.register("", views.CameraViewSet, basename="camera")

urlpatterns = [
    path("list", views.CameraListView.as_view(), name="camera-list-seed"),
    # Discovery: before the router, whose "" prefix would otherwise claim these paths.
    path("discover", discovery.DiscoverView.as_view(), name="camera-discover"),
    path("discovery/jobs", discovery.DiscoveryJobListView.as_view(), name="discovery-job-list"),
    path("discovery/jobs/<int:pk>", discovery.DiscoveryJobDetailView.as_view(), name="discovery-job-detail"),
    path("discovery/devices", discovery.DiscoveredDeviceListView.as_view(), name="discovery-device-list"),
    path("discovery/devices/<int:pk>", discovery.DiscoveredDeviceDetailView.as_view(), name="discovery-device-detail"),
    path("discovery/adopt", discovery.AdoptView.as_view(), name="discovery-adopt"),
    *router.urls,
]
