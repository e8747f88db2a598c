from collections.abc import Mapping
from datetime import timedelta

from django.utils import timezone
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.exceptions import AuthenticationFailed
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView
from rest_framework_simplejwt.views import TokenObtainPairView, TokenRefreshView

from accounts.api.serializers import (
    McpTokenCreatedSerializer,
    McpTokenCreateSerializer,
    McpTokenSerializer,
    RefreshRequestSerializer,
    RefreshResponseSerializer,
    RegisterSerializer,
    TokenPairSerializer,
    TokenRequestSerializer,
    TokenResponseSerializer,
    TokenRotateSerializer,
    UserSerializer,
)
from accounts.selectors import mcp_token_list_for_user
from accounts.services import mcp_token_create, mcp_token_revoke, user_register
from accounts.throttles import login_check, login_failed, login_succeeded
from mcpshop_site.api import error_responses
from mcpshop_site.parsers import JSONParser
from mcpshop_site.ratelimit import ScopedRateLimit


class RegisterApi(APIView):
    authentication_classes = []
    permission_classes = [AllowAny]
    throttle_classes = [ScopedRateLimit]
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
    parser_classes = [JSONParser, FormParser, MultiPartParser]  # "JSON or form"; the rest of the API: JSON only

    @extend_schema(
        operation_id="auth_token",
        request=TokenRequestSerializer,
        responses={200: TokenResponseSerializer, **error_responses(400, 401, 429)},
        auth=[],
    )
    def post(self, request, *args, **kwargs):
        """Trade a username and password (JSON or form) for an access and a refresh token."""
        username = str(request.data.get("username") or "") if isinstance(request.data, Mapping) else ""
        login_check(request, username)  # the lock every password door shares
        try:
            response = super().post(request, *args, **kwargs)
        except AuthenticationFailed:
            login_failed(request, username)
            raise
        login_succeeded(request, username)
        return response


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


class McpTokenListCreateApi(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        operation_id="auth_mcp_tokens_list",
        responses={200: McpTokenSerializer(many=True), **error_responses(401)},
    )
    def get(self, request):
        """List your MCP tokens that are not revoked, with when each was last used (never the tokens themselves)."""
        return Response(McpTokenSerializer(mcp_token_list_for_user(user=request.user), many=True).data)

    @extend_schema(
        operation_id="auth_mcp_tokens_create",
        request=McpTokenCreateSerializer,
        responses={201: McpTokenCreatedSerializer, **error_responses(400, 401, 409)},
    )
    def post(self, request):
        """Create a personal MCP token for an MCP client; the token is in this answer only, never again."""
        serializer = McpTokenCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        days = serializer.validated_data.get("expires_in_days")
        token, plain = mcp_token_create(
            user=request.user,
            name=serializer.validated_data["name"],
            scopes=serializer.validated_data.get("scopes"),
            expires_at=timezone.now() + timedelta(days=days) if days else None,
        )
        data = McpTokenCreatedSerializer(token, context={"plain": plain}).data
        return Response(data, status=status.HTTP_201_CREATED, headers={"Cache-Control": "no-store"})


class McpTokenRevokeApi(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(operation_id="auth_mcp_tokens_revoke", responses={204: None, **error_responses(401, 404)})
    def delete(self, request, token_id):
        """Revoke one of your MCP tokens: it stops working at once."""
        mcp_token_revoke(user=request.user, token_id=token_id)
        return Response(status=status.HTTP_204_NO_CONTENT)
