from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.response import Response
from rest_framework.throttling import ScopedRateThrottle
from rest_framework.views import APIView
from rest_framework_simplejwt.views import TokenObtainPairView, TokenRefreshView

from accounts.api.serializers import (
    RefreshRequestSerializer,
    RefreshResponseSerializer,
    RegisterSerializer,
    TokenPairSerializer,
    TokenRequestSerializer,
    TokenResponseSerializer,
    TokenRotateSerializer,
    UserSerializer,
)
from accounts.services import user_register
from mcpshop_site.api import error_responses


class RegisterApi(APIView):
    authentication_classes = []
    permission_classes = [AllowAny]
    throttle_classes = [ScopedRateThrottle]
    throttle_scope = "register"

    @extend_schema(
        operation_id="auth_register",
        request=RegisterSerializer,
        responses={201: UserSerializer, **error_responses(400, 409, 429)},
        auth=[],
    )
    def post(self, request):
        """Create a shopper account."""
        serializer = RegisterSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        user = user_register(**serializer.validated_data)
        return Response(UserSerializer(user).data, status=status.HTTP_201_CREATED)


class TokenApi(TokenObtainPairView):
    serializer_class = TokenPairSerializer
    throttle_classes = [ScopedRateThrottle]
    throttle_scope = "login"

    @extend_schema(
        operation_id="auth_token",
        request=TokenRequestSerializer,
        responses={200: TokenResponseSerializer, **error_responses(400, 401, 429)},
        auth=[],
    )
    def post(self, request, *args, **kwargs):
        """Trade a username and password (JSON or form) for an access and a refresh token."""
        return super().post(request, *args, **kwargs)


class TokenRefreshApi(TokenRefreshView):
    serializer_class = TokenRotateSerializer

    @extend_schema(
        operation_id="auth_token_refresh",
        request=RefreshRequestSerializer,
        responses={200: RefreshResponseSerializer, **error_responses(400, 401)},
        auth=[],
    )
    def post(self, request, *args, **kwargs):
        """Trade a refresh token for a new access token and a new refresh token (the old one stops working)."""
        return super().post(request, *args, **kwargs)


class MeApi(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(operation_id="auth_me", responses={200: UserSerializer, **error_responses(401)})
    def get(self, request):
        """Return the signed-in user."""
        return Response(UserSerializer(request.user).data)
