from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from cart.api.serializers import (
    CartAddSerializer,
    CartDiscountSerializer,
    CartLineSerializer,
    CartQuantitySerializer,
    CartSerializer,
)
from cart.selectors import cart_find, cart_items, cart_line_view, cart_view
from cart.services import (
    cart_add,
    cart_clear,
    cart_discount_apply,
    cart_discount_remove,
    cart_remove_item,
    cart_set_quantity,
)
from cart.shoppers import shopper_for_request
from mcpshop_site.api import error_responses

ITEM_PARAMETER = OpenApiParameter("item_id", int, OpenApiParameter.PATH, description="The cart line's id.")
CODE_PARAMETER = OpenApiParameter("code", str, OpenApiParameter.PATH, description="A discount code on the cart.")


class CartApi(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(operation_id="cart_retrieve", responses={200: CartSerializer, **error_responses(401)})
    def get(self, request):
        """Return the signed-in user's cart with line and grand totals in cents."""
        return Response(cart_view(cart_items(shopper=shopper_for_request(request))))

    @extend_schema(
        operation_id="cart_add",
        request=CartAddSerializer,
        responses={201: CartLineSerializer, **error_responses(400, 401, 404, 409)},
    )
    def post(self, request):
        """Add a quantity of a product to the cart (added to its line if it is already there)."""
        serializer = CartAddSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        item = cart_add(shopper=shopper_for_request(request), **serializer.validated_data)
        return Response(cart_line_view(item), status=status.HTTP_201_CREATED)


class CartClearApi(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(operation_id="cart_clear", responses={204: None, **error_responses(401)})
    def delete(self, request):
        """Remove every line from the cart."""
        cart_clear(cart=cart_find(shopper=shopper_for_request(request)))
        return Response(status=status.HTTP_204_NO_CONTENT)


class CartDiscountApi(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        operation_id="cart_discount_apply",
        request=CartDiscountSerializer,
        responses={200: CartSerializer, **error_responses(400, 401)},
    )
    def post(self, request):
        """Apply a discount code (any case) to the cart; 400 `discount_invalid` says why one does not apply."""
        serializer = CartDiscountSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        shopper = shopper_for_request(request)
        cart_discount_apply(shopper=shopper, code=serializer.validated_data["code"])
        return Response(cart_view(cart_items(shopper=shopper)))


@extend_schema(parameters=[CODE_PARAMETER])
class CartDiscountRemoveApi(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(operation_id="cart_discount_remove", responses={200: CartSerializer, **error_responses(401, 404)})
    def delete(self, request, code):
        """Take a discount code off the cart; answers the cart."""
        shopper = shopper_for_request(request)
        cart_discount_remove(shopper=shopper, code=code)
        return Response(cart_view(cart_items(shopper=shopper)))


@extend_schema(parameters=[ITEM_PARAMETER])
class CartItemApi(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        operation_id="cart_item_update",
        request=CartQuantitySerializer,
        responses={200: CartLineSerializer, **error_responses(400, 401, 404, 409)},
    )
    def patch(self, request, item_id):
        """Set the quantity of one line of the cart."""
        serializer = CartQuantitySerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        item = cart_set_quantity(
            cart=cart_find(shopper=shopper_for_request(request)),
            item_id=item_id,
            quantity=serializer.validated_data["quantity"],
        )
        return Response(cart_line_view(item))

    @extend_schema(operation_id="cart_item_destroy", responses={204: None, **error_responses(401, 404)})
    def delete(self, request, item_id):
        """Remove one line from the cart."""
        cart_remove_item(cart=cart_find(shopper=shopper_for_request(request)), item_id=item_id)
        return Response(status=status.HTTP_204_NO_CONTENT)
