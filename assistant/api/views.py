"""The assistant over REST: `POST /api/chat` (one whole turn), confirmations, and the conversations.

A turn can wait on a model for many seconds, so the chat views are async: DRF's own steps
(authentication, permissions) run in a worker thread, the turn on the event loop, and no sync
thread is held while the model thinks.
"""

import asyncio

from asgiref.sync import sync_to_async
from django.middleware.csrf import get_token
from django.utils import timezone
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework.authentication import SessionAuthentication
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from assistant.api.serializers import (
    ChatRequestSerializer,
    ChatResponseSerializer,
    ConfirmationRequestSerializer,
    ConfirmedSerializer,
    ConversationDetailSerializer,
    ConversationSerializer,
    DeclinedSerializer,
)
from assistant.chat import collect_turn, confirm, decline
from assistant.selectors import conversation_get, conversation_list_for_user, conversation_messages
from assistant.transcript import restored_events, tool_calls
from cart.selectors import cart_items, cart_view
from cart.shoppers import shopper_for_request
from mcpshop_site.api import ErrorSerializer, PageQuerySerializer, Pagination, error_response, error_responses
from mcpshop_site.ratelimit import client_address

MODEL_ERROR_RESPONSES = {
    502: OpenApiResponse(ErrorSerializer, description="The model failed or its answer was cut off."),
    503: OpenApiResponse(ErrorSerializer, description="The model is busy: try again in a minute."),
    504: OpenApiResponse(ErrorSerializer, description="The model took too long to answer."),
}


def _error_for_event(event: dict, details: dict | None = None) -> Response:
    status = event["status"]  # ShopError.as_event(): model failures (BrainError) and bugs are ShopErrors too
    # The shop's own limit says when; the model endpoint's 429 does not: try again next minute.
    headers = {"Retry-After": str(event.get("retry_after", 60 - timezone.now().second))} if status == 429 else None
    return error_response(event["code"], event["message"], status, details, headers)


class AsyncApiView(APIView):
    """An APIView whose handlers are coroutines.

    DRF's request steps are sync and may query the database (a JWT's user, the session), so
    they run in a worker thread; `shopper()` (sync, same thread) can prepare more from the request.
    """

    async def dispatch(self, request, *args, **kwargs):
        self.args, self.kwargs = args, kwargs
        request = self.initialize_request(request, *args, **kwargs)
        self.request = request
        self.headers = self.default_response_headers
        try:
            await sync_to_async(self._initial)(request, *args, **kwargs)
            handler = getattr(self, request.method.lower(), None)
            if request.method.lower() not in self.http_method_names or handler is None:
                handler = self.http_method_not_allowed
            response = handler(request, *args, **kwargs)
            if asyncio.iscoroutine(response):
                response = await response
        except Exception as exc:
            response = self.handle_exception(exc)
        self.response = self.finalize_response(request, response, *args, **kwargs)
        return self.response

    def _initial(self, request, *args, **kwargs):
        self.initial(request, *args, **kwargs)
        self.prepare(request)

    def prepare(self, request) -> None:
        """Read what the handler needs from the request (sync: the session may hit the database)."""


class ChatApi(AsyncApiView):
    """One whole assistant turn over REST, for API clients (JWT) and the storefront's session (guests too)."""

    permission_classes = [AllowAny]

    def prepare(self, request) -> None:
        self.address = client_address(request)  # as the login lock sees it (NUM_PROXIES)
        self.shopper = shopper_for_request(request)
        if self.shopper.signed_in or request.method != "POST":
            return
        # A guest is known by the cart token in their session: a cookie, so the usual CSRF check applies.
        if request.session.session_key:
            SessionAuthentication().enforce_csrf(request)
        if not self.shopper.known:
            self.shopper = shopper_for_request(request, create=True)
            get_token(request)  # send a CSRF cookie along with the new session cookie

    @extend_schema(
        operation_id="chat",
        request=ChatRequestSerializer,
        responses={
            200: ChatResponseSerializer,
            **error_responses(400, 401, 403, 404, 429),
            **MODEL_ERROR_RESPONSES,
        },
    )
    async def post(self, request):
        """Send the assistant a message and get its whole answer, with the actions it took.

        Guests may chat with a session cookie; orders need an account. A `confirm_required` action
        waits for `POST /api/chat/confirm` with its token. Model failures answer 502/503/504 with the
        conversation kept valid.
        """
        serializer = ChatRequestSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        result = await collect_turn(
            shopper=self.shopper,
            text=data["text"],
            conversation_id=data.get("conversation_id") or None,
            address=self.address,
        )
        if result.error:
            details = (
                {"conversation_id": result.conversation_id, "reply": result.reply} if result.conversation_id else {}
            )
            return _error_for_event(result.error, details)
        cart = result.cart
        if cart is None:
            cart = await sync_to_async(lambda: cart_view(cart_items(shopper=self.shopper)))()
        return Response(
            {
                "reply": result.reply,
                "conversation_id": result.conversation_id,
                "message_id": result.message_id,
                "actions": result.actions,
                "cart": cart,
            }
        )


class ChatConfirmApi(AsyncApiView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        operation_id="chat_confirm",
        request=ConfirmationRequestSerializer,
        responses={200: ConfirmedSerializer, **error_responses(400, 401, 404, 409)},
    )
    async def post(self, request):
        """Carry out a `confirm_required` action (place or cancel the order): the shopper's own yes."""
        serializer = ConfirmationRequestSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        events = await confirm(user=request.user, token=serializer.validated_data["token"])
        if events[0]["type"] == "error":
            return _error_for_event(events[0])
        found = {event["type"]: event for event in events}
        return Response({"order": found["order"]["order"], "cart": found["cart"]["cart"]})


class ChatCancelApi(AsyncApiView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        operation_id="chat_cancel",
        request=ConfirmationRequestSerializer,
        responses={200: DeclinedSerializer, **error_responses(400, 401, 404, 409)},
    )
    async def post(self, request):
        """Turn down a `confirm_required` action: its token can no longer be used, nothing changes."""
        serializer = ConfirmationRequestSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        events = await decline(user=request.user, token=serializer.validated_data["token"])
        if events:
            return _error_for_event(events[0])
        return Response({"outcome": "declined"})


class ConversationListApi(APIView):
    permission_classes = [IsAuthenticated]
    pagination_class = Pagination

    @extend_schema(
        operation_id="conversations_list",
        parameters=[PageQuerySerializer],
        responses={200: ConversationSerializer(many=True), **error_responses(400, 401)},
    )
    def get(self, request):
        """List the user's conversations with the assistant, most recent first, a page at a time."""
        PageQuerySerializer(data=request.query_params).is_valid(raise_exception=True)
        paginator = self.pagination_class()
        page = paginator.paginate_queryset(conversation_list_for_user(user=request.user), request, view=self)
        return paginator.get_paginated_response(ConversationSerializer(page, many=True).data)


@extend_schema(parameters=[OpenApiParameter("conversation_id", str, OpenApiParameter.PATH)])
class ConversationDetailApi(APIView):
    permission_classes = [AllowAny]

    @extend_schema(
        operation_id="conversations_retrieve",
        responses={200: ConversationDetailSerializer, **error_responses(404)},
    )
    def get(self, request, conversation_id):
        """Return one of the caller's conversations with every message, tool calls and results included.

        A guest reads the conversations of their session; anyone else's answers 404.
        """
        conversation = conversation_get(shopper=shopper_for_request(request), conversation_id=conversation_id)
        conversation.message_list = list(conversation_messages(conversation=conversation))
        events = restored_events(tool_calls(conversation.message_list))
        for message in conversation.message_list:
            message.events = events.get(message.pk, [])
        return Response(ConversationDetailSerializer(conversation).data)
