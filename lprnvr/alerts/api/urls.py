from rest_framework.routers import SimpleRouter

from . import views

app_name = "alerts"

router = SimpleRouter(trailing_slash=True)
router.register("rules", views.RuleViewSet, basename="rule")
router.register("targets", views.TargetViewSet, basename="target")
router.register("events", views.EventViewSet, basename="event")
router.register("deliveries", views.DeliveryViewSet, basename="delivery")

urlpatterns = router.urls
