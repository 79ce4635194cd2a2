from django.urls import include, path
from rest_framework.routers import SimpleRouter

from . import events, legacy, lists, reads, views

app_name = "plates"

router = SimpleRouter(trailing_slash=True)  # like /api/cameras/: every REST path ends with a slash
router.register("jobs", views.JobViewSet, basename="job")
router.register("cameras", views.AnprCameraViewSet, basename="camera")
router.register("backups", views.BackupViewSet, basename="backup")
router.register("reads", reads.PlateReadViewSet, basename="read")
router.register("sites", lists.SiteViewSet, basename="site")
router.register("gates", lists.GateViewSet, basename="gate")
router.register("lists", lists.PlateListViewSet, basename="list")
router.register("passes", lists.VisitorPassViewSet, basename="pass")
router.register("", views.PlateViewSet, basename="plate")

urlpatterns = [
    path("AddPlate", legacy.AddPlateView.as_view(), name="legacy-add"),
    path("DeletePlate", legacy.DeletePlateView.as_view(), name="legacy-delete"),
    path("UpdatePlate", legacy.UpdatePlateView.as_view(), name="legacy-update"),
    path("api/plates/events/push/<int:camera_id>/<str:secret>/", events.push, name="events-push"),
    path("api/plates/", include(router.urls)),
]
