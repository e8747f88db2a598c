"""The address book over the API: GET/POST /api/addresses/, GET/PATCH/DELETE /api/addresses/{id} (owner only)."""

from django.urls import path
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.addresses import address_create, address_delete, address_update
from accounts.models import ADDRESS_LIMITS
from accounts.selectors import address_get_for_user, address_list_for_user
from mcpshop_site.api import error_responses

ADDRESS_PARAMETER = OpenApiParameter("address_id", int, OpenApiParameter.PATH, description="The address's id.")


class AddressSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    recipient = serializers.CharField()
    phone = serializers.CharField()
    country = serializers.CharField(help_text="ISO 3166-1 alpha-2 code, e.g. CN.")
    region = serializers.CharField(help_text="Region, province or state; may be empty.")
    city = serializers.CharField()
    district = serializers.CharField()
    street = serializers.CharField()
    postal_code = serializers.CharField()
    is_default = serializers.BooleanField(source="is_the_default")
    one_line = serializers.CharField(help_text="The whole address on one line, as an order prints it.")


def _text(field: str, **kwargs):
    limit = 2 if field == "country" else ADDRESS_LIMITS[field]
    return serializers.CharField(required=False, allow_blank=True, max_length=limit, trim_whitespace=False, **kwargs)


class AddressInputSerializer(serializers.Serializer):
    """An address to add or change; the address book's rules say what is required and well formed."""

    recipient = _text("recipient", help_text="Required for a new address.")
    phone = _text("phone", help_text="Digits, spaces, +, - and brackets. Required for a new address.")
    country = _text("country", help_text="ISO 3166-1 alpha-2 code (any case). Required for a new address.")
    region = _text("region")
    city = _text("city", help_text="Required for a new address.")
    district = _text("district")
    street = _text("street", help_text="Required for a new address.")
    postal_code = _text("postal_code")
    is_default = serializers.BooleanField(
        required=False, help_text="true makes it the default (the old default stops being it)."
    )


def _shown(address) -> dict:
    return AddressSerializer(address).data


def _input(request, *, partial: bool) -> tuple[dict, bool]:
    serializer = AddressInputSerializer(data=request.data, partial=partial)
    serializer.is_valid(raise_exception=True)
    fields = dict(serializer.validated_data)
    return fields, bool(fields.pop("is_default", False))


class AddressListApi(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(operation_id="addresses_list", responses={200: AddressSerializer(many=True), **error_responses(401)})
    def get(self, request):
        """List the user's addresses, the default first."""
        return Response([_shown(address) for address in address_list_for_user(user=request.user)])

    @extend_schema(
        operation_id="addresses_create",
        request=AddressInputSerializer,
        responses={201: AddressSerializer, **error_responses(400, 401, 409)},
    )
    def post(self, request):
        """Add an address; the first one becomes the default."""
        fields, make_default = _input(request, partial=False)
        address = address_create(user=request.user, make_default=make_default, **fields)
        return Response(_shown(address), status=status.HTTP_201_CREATED)


@extend_schema(parameters=[ADDRESS_PARAMETER])
class AddressDetailApi(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(operation_id="addresses_retrieve", responses={200: AddressSerializer, **error_responses(401, 404)})
    def get(self, request, address_id):
        """Return one of the user's addresses."""
        return Response(_shown(address_get_for_user(user=request.user, address_id=address_id)))

    @extend_schema(
        operation_id="addresses_update",
        request=AddressInputSerializer,
        responses={200: AddressSerializer, **error_responses(400, 401, 404)},
    )
    def patch(self, request, address_id):
        """Change some fields of an address, or make it the default."""
        fields, make_default = _input(request, partial=True)
        address = address_update(user=request.user, address_id=address_id, make_default=make_default, **fields)
        return Response(_shown(address))

    @extend_schema(operation_id="addresses_destroy", responses={204: None, **error_responses(401, 404)})
    def delete(self, request, address_id):
        """Delete an address; if it was the default, the newest other one becomes the default."""
        address_delete(user=request.user, address_id=address_id)
        return Response(status=status.HTTP_204_NO_CONTENT)


urlpatterns = [
    path("", AddressListApi.as_view(), name="addresses"),
    path("<str:address_id>", AddressDetailApi.as_view(), name="address"),
]
