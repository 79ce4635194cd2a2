from django.urls import path

from . import views

auth_urlpatterns = [
    path("login", views.LoginView.as_view(), name="auth-login"),
    path("logout", views.LogoutView.as_view(), name="auth-logout"),
    path("register", views.RegisterView.as_view(), name="auth-register"),
    path("refresh", views.RefreshView.as_view(), name="auth-refresh"),
]

users_urlpatterns = [
    path("api/users", views.UserListView.as_view(), name="user-list"),
    path("api/users/<int:pk>", views.UserDetailView.as_view(), name="user-detail"),
    path("api/users/<int:pk>/cameras", views.UserCamerasView.as_view(), name="user-cameras"),
    path("api/users/<int:pk>/cameras/<str:ref>", views.UserCameraDetailView.as_view(), name="user-camera-detail"),
]
