from drf_spectacular.utils import OpenApiParameter, PolymorphicProxySerializer, extend_schema
from rest_framework import status
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from mcpshop_site.api import PageQuerySerializer, Pagination, error_responses
from orders.api.serializers import (
    IdempotencyKeySerializer,
    OrderPlaceSerializer,
    OrderSerializer,
    PaymentRedirectSerializer,
)
from orders.selectors import order_get_for_user, order_list_for_user
from orders.services import order_cancel_for_user, order_cancel_line_for_user, order_pay, order_place

ORDER_PARAMETER = OpenApiParameter("order_id", int, OpenApiParameter.PATH, description="The order's id.")
LINE_PARAMETER = OpenApiParameter("line_id", int, OpenApiParameter.PATH, description="The line's `id` in `items`.")
IDEMPOTENCY_KEY = OpenApiParameter(
    "Idempotency-Key",
    str,
    OpenApiParameter.HEADER,
    description="1 to 128 characters. A retry with the same key returns the same order; "
    "the same key with a different cart answers 409.",
)
REPLAYED = OpenApiParameter(
    "Idempotent-Replayed",
    str,
    OpenApiParameter.HEADER,
    response=[201],
    description="`true` when this answer replays the order made earlier with this Idempotency-Key.",
)


class OrderListApi(APIView):
    permission_classes = [IsAuthenticated]
    pagination_class = Pagination

    @extend_schema(
        operation_id="orders_list",
        parameters=[PageQuerySerializer],
        responses={200: OrderSerializer(many=True), **error_responses(400, 401)},
    )
    def get(self, request):
        """List the user's orders, newest first, a page at a time."""
        PageQuerySerializer(data=request.query_params).is_valid(raise_exception=True)
        paginator = self.pagination_class()
        page = paginator.paginate_queryset(order_list_for_user(user=request.user), request, view=self)
        return paginator.get_paginated_response(OrderSerializer(page, many=True).data)

    @extend_schema(
        operation_id="orders_place",
        parameters=[IDEMPOTENCY_KEY, REPLAYED],
        request=OrderPlaceSerializer,
        responses={201: OrderSerializer, **error_responses(400, 401, 404, 409)},
    )
    def post(self, request):
        """Turn the cart into an order: all lines or none. A replayed key answers `Idempotent-Replayed: true`."""
        serializer = OrderPlaceSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        key = request.headers.get("Idempotency-Key")
        header = IdempotencyKeySerializer(data={} if key is None else {"idempotency_key": key})
        header.is_valid(raise_exception=True)
        order = order_place(
            user=request.user,
            idempotency_key=header.validated_data.get("idempotency_key"),
            **serializer.validated_data,
        )
        headers = {"Idempotent-Replayed": "true"} if order.replayed else None
        return Response(OrderSerializer(order).data, status=status.HTTP_201_CREATED, headers=headers)


@extend_schema(parameters=[ORDER_PARAMETER])
class OrderDetailApi(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(operation_id="orders_retrieve", responses={200: OrderSerializer, **error_responses(401, 404)})
    def get(self, request, order_id):
        """Return one of the user's orders."""
        return Response(OrderSerializer(order_get_for_user(user=request.user, order_id=order_id)).data)


@extend_schema(parameters=[ORDER_PARAMETER])
class OrderCancelApi(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        operation_id="orders_cancel", request=None, responses={200: OrderSerializer, **error_responses(401, 404, 409)}
    )
    def post(self, request, order_id):
        """Cancel a pending or paid order; its stock goes back on the shelf once and a payment is refunded once."""
        order = order_cancel_for_user(user=request.user, order_id=order_id)
        return Response(OrderSerializer(order_get_for_user(user=request.user, order_id=order.pk)).data)


@extend_schema(parameters=[ORDER_PARAMETER])
class OrderPayApi(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        operation_id="orders_pay",
        request=None,
        responses={
            200: PolymorphicProxySerializer("PayResult", [OrderSerializer, PaymentRedirectSerializer], None),
            **error_responses(401, 404, 409, 502),
        },
    )
    def post(self, request, order_id):
        """Pay a pending order: the paid order (test provider), or `{"redirect_url"}` to the provider's page (Stripe).

        With Stripe the order is paid when Stripe's signed webhook confirms it; the page sends the shopper
        back to the order page. An order past its `payment_due_at` answers 409 `order_expired`.
        """
        order = order_get_for_user(user=request.user, order_id=order_id)
        return_url = request.build_absolute_uri(order.get_absolute_url())
        order = order_pay(user=request.user, order_id=order.pk, return_url=return_url)
        if order.payment_redirect_url:
            return Response(PaymentRedirectSerializer({"redirect_url": order.payment_redirect_url}).data)
        return Response(OrderSerializer(order_get_for_user(user=request.user, order_id=order.pk)).data)


@extend_schema(parameters=[ORDER_PARAMETER, LINE_PARAMETER])
class OrderItemCancelApi(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        operation_id="orders_items_cancel",
        request=None,
        responses={200: OrderSerializer, **error_responses(401, 404, 409, 502)},
    )
    def post(self, request, order_id, line_id):
        """Cancel one line of a paid order: its paid amount (with its tax) is refunded and its stock goes back, once."""
        order = order_cancel_line_for_user(user=request.user, order_id=order_id, item_id=line_id)
        return Response(OrderSerializer(order_get_for_user(user=request.user, order_id=order.pk)).data)
