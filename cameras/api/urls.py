from django.urls import path
from rest_framework.routers import SimpleRouter

from . import views

router = SimpleRouter(trailing_slash=True)
router.register("", views.CameraViewSet, basename="camera")

urlpatterns = [
    path("list", views.CameraListView.as_view(), name="camera-list-seed"),
    *router.urls,
]
