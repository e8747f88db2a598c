"""GET /api/shipping-options/?country=CN&region=...: the ways to ship the caller's cart there, priced."""

from django.conf import settings
from django.urls import path
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from cart.api.serializers import ShippingOptionSerializer
from cart.selectors import cart_shipping_options
from cart.shoppers import shopper_for_request
from mcpshop_site.api import error_responses


class DestinationSerializer(serializers.Serializer):
    country = serializers.CharField(
        required=False, max_length=2, help_text="ISO 3166-1 alpha-2 code; the shop's country if omitted."
    )
    region = serializers.CharField(required=False, allow_blank=True, max_length=100, help_text="Province or state.")


class ShippingOptionsApi(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        operation_id="shipping_options",
        parameters=[DestinationSerializer],
        responses={200: ShippingOptionSerializer(many=True), **error_responses(400, 401)},
    )
    def get(self, request):
        """List the shipping options for the cart to a destination, priced after free-shipping promotions."""
        query = DestinationSerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        options = cart_shipping_options(
            shopper=shopper_for_request(request),
            country=query.validated_data.get("country", settings.SHOP_COUNTRY),
            region=query.validated_data.get("region", ""),
        )
        return Response(options)


urlpatterns = [path("", ShippingOptionsApi.as_view(), name="shipping-options")]
