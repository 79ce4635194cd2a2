from __future__ import annotations

from django.db import transaction
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import exceptions, status
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts import services
from accounts.models import Role, User
from accounts.throttling import LoginThrottled
from lprnvr.api import IsAdmin, client_address
from lprnvr.errors import Conflict

from .serializers import (
    CameraAssignmentSerializer,
    LoginResponseSerializer,
    LoginSerializer,
    LogoutSerializer,
    MessageSerializer,
    RefreshSerializer,
    RegisterSerializer,
    TokenSerializer,
    UserSerializer,
    UserSummarySerializer,
    UserUpdateSerializer,
)


class PublicAuthView(APIView):
    """Endpoints that take credentials in the body: a stale token in the header must not block them."""

    authentication_classes: list = []
    permission_classes = [AllowAny]

    def get_authenticate_header(self, request):
        return 'Bearer realm="api"'


class LoginView(PublicAuthView):
    @extend_schema(request=LoginSerializer, responses={200: LoginResponseSerializer}, tags=["auth"])
    def post(self, request):
        data = LoginSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            user = services.login(**data.validated_data, address=client_address(request), request=request)
        except LoginThrottled as exc:
            raise exceptions.Throttled(wait=exc.retry_after, detail=_("Too many failed logins.")) from exc
        if user is None:
            raise exceptions.AuthenticationFailed(_("Invalid username or password."))
        return Response({**services.issue_tokens(user), "user": UserSummarySerializer(user).data})


class RefreshView(PublicAuthView):
    @extend_schema(request=RefreshSerializer, responses={200: TokenSerializer}, tags=["auth"])
    def post(self, request):
        """A new access token and a new refresh token; the refresh token sent is spent."""
        data = RefreshSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            return Response(services.rotate_refresh_token(data.validated_data["refresh"]))
        except services.RefreshRefused as exc:
            raise exceptions.AuthenticationFailed(str(exc)) from exc


class LogoutView(APIView):
    @extend_schema(request=LogoutSerializer, responses={200: MessageSerializer}, tags=["auth"])
    def post(self, request):
        """End this token and its refresh token; with `{"all": true}` every session of the account."""
        if request.auth is None or not hasattr(request.auth, "payload"):
            raise exceptions.NotAuthenticated(_("Log out with the Bearer token you logged in with."))
        data = LogoutSerializer(data=request.data or {})
        data.is_valid(raise_exception=True)
        if data.validated_data["all"]:
            services.end_all_sessions(user=request.user)
        services.revoke_token(request.auth.payload)
        return Response({"message": "Logged out"})


class RegisterView(APIView):
    """The first user of an empty system registers freely and becomes admin; then admins only."""

    permission_classes = [AllowAny]

    @extend_schema(request=RegisterSerializer, responses={201: UserSummarySerializer}, tags=["auth"])
    def post(self, request):
        with transaction.atomic():
            services.lock_registration()
            first = services.system_is_empty()
            if not first:
                if not request.user.is_authenticated:
                    raise exceptions.NotAuthenticated()
                if not request.user.is_admin:
                    raise exceptions.PermissionDenied(_("Only administrators may register users."))
            data = RegisterSerializer(data=request.data)
            data.is_valid(raise_exception=True)
            role = Role.ADMIN if first else data.validated_data["role"]
            user = services.create_user(
                username=data.validated_data["username"],
                password=data.validated_data["password"],
                role=role,
                legacy_digest=data.validated_data["legacy_digest"],
            )
        return Response(UserSummarySerializer(user).data, status=status.HTTP_201_CREATED)


class UserListView(APIView):
    permission_classes = [IsAdmin]

    @extend_schema(responses={200: UserSerializer(many=True)}, tags=["users"])
    def get(self, request):
        users = User.objects.order_by("id").prefetch_related("cameras")
        return Response(UserSerializer(users, many=True).data)


class UserDetailView(APIView):
    permission_classes = [IsAdmin]

    def get_user(self, pk: int) -> User:
        return get_object_or_404(User.objects.prefetch_related("cameras"), pk=pk)

    @extend_schema(responses={200: UserSerializer}, tags=["users"])
    def get(self, request, pk: int):
        return Response(UserSerializer(self.get_user(pk)).data)

    @extend_schema(request=UserUpdateSerializer, responses={200: UserSerializer}, tags=["users"])
    def put(self, request, pk: int):
        user = self.get_user(pk)
        data = UserUpdateSerializer(user, data=request.data)
        data.is_valid(raise_exception=True)
        try:
            services.update_user(user=user, **data.validated_data)
        except services.LastAdmin as exc:
            raise Conflict(_("The last active administrator cannot be demoted or deactivated.")) from exc
        return Response(UserSerializer(self.get_user(pk)).data)

    patch = put

    @extend_schema(responses={200: MessageSerializer}, tags=["users"])
    def delete(self, request, pk: int):
        user = self.get_user(pk)
        try:
            services.delete_user(user=user)
        except services.LastAdmin as exc:
            raise Conflict(_("The last administrator cannot be deleted.")) from exc
        return Response({"message": "User deleted"})


class UserCamerasView(APIView):
    permission_classes = [IsAdmin]

    @extend_schema(request=CameraAssignmentSerializer, responses={200: UserSerializer}, tags=["users"])
    def post(self, request, pk: int):
        user = get_object_or_404(User, pk=pk)
        data = CameraAssignmentSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            services.assign_cameras(user=user, camera_refs=data.validated_data["camera_ips"])
        except services.UnknownCameras as exc:
            raise exceptions.ValidationError(
                {"camera_ips": [_("Unknown camera: %(ref)s") % {"ref": ref} for ref in exc.refs]}
            ) from exc
        return Response(UserSerializer(user).data)


class UserCameraDetailView(APIView):
    permission_classes = [IsAdmin]

    @extend_schema(request=None, responses={200: UserSerializer, 404: OpenApiResponse()}, tags=["users"])
    def delete(self, request, pk: int, ref: str):
        user = get_object_or_404(User, pk=pk)
        try:
            services.unassign_camera(user=user, camera_ref=ref)
        except services.UnknownCameras as exc:
            raise exceptions.NotFound(_("Unknown camera: %(ref)s") % {"ref": ref}) from exc
        return Response(UserSerializer(user).data)
