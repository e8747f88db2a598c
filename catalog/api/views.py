import functools

from django.http import QueryDict
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status
from rest_framework.permissions import AllowAny, IsAdminUser
from rest_framework.response import Response
from rest_framework.views import APIView

from catalog.api.serializers import (
    CategorySerializer,
    ProductCreateSerializer,
    ProductDetailSerializer,
    ProductListQuerySerializer,
    ProductSerializer,
    ProductWriteSerializer,
)
from catalog.cache import cached_count, categories
from catalog.search import product_search
from catalog.selectors import PRODUCT_VALUES, product_get
from catalog.services import product_create, product_delete, product_update
from mcpshop_site.api import Pagination, error_responses

SKU_PARAMETER = OpenApiParameter("sku", str, OpenApiParameter.PATH, description="The product's SKU.")


class StaffWritesMixin:
    """Anyone may read; only staff may write (401 for anonymous, 403 for shoppers)."""

    def get_permissions(self):
        return [AllowAny()] if self.request.method in ("GET", "HEAD", "OPTIONS") else [IsAdminUser()]


class CategoryListApi(APIView):
    permission_classes = [AllowAny]

    @extend_schema(operation_id="categories_list", responses={200: CategorySerializer(many=True)})
    def get(self, request):
        """List every category with its parent's slug and its number of active products."""
        shelves = categories()
        slugs = {shelf.pk: shelf.slug for shelf in shelves}
        rows = [
            {
                "slug": shelf.slug,
                "name": shelf.name,
                "name_en": shelf.name_en,
                "parent__slug": slugs.get(shelf.parent_id),
                "product_count": shelf.product_count,
            }
            for shelf in shelves
        ]
        return Response(CategorySerializer(rows, many=True).data)


class CachedCountPagination(Pagination):
    """Count the list through the catalog cache (lists not filtered by stock: see catalog.cache)."""

    def __init__(self, filters: dict):
        self.filters = filters

    def get_count(self, queryset):
        return cached_count(queryset, filters=self.filters)


@functools.lru_cache(maxsize=256)
def _list_filters(query_string: str) -> dict:
    """Return the filters of a query string, checked once per process for the most asked ones (`?limit=20`);
    a copy is the caller's. Raises the serializer's ValidationError (400), which is not remembered."""
    params = ProductListQuerySerializer(data=QueryDict(query_string))
    params.is_valid(raise_exception=True)
    return params.validated_data


class ProductListApi(StaffWritesMixin, APIView):
    pagination_class = Pagination  # the page envelope of the schema; get() picks the paginator per request

    @extend_schema(
        operation_id="products_list",
        parameters=[ProductListQuerySerializer],
        responses={200: ProductSerializer(many=True), **error_responses(400)},
    )
    def get(self, request):
        """Search the active products a page at a time: best match first with `q`, else newest first.

        `mode=keyword` (the default) needs every word, `semantic` finds by meaning in any language,
        `hybrid` fuses both rankings.
        """
        filters = dict(_list_filters(request.META.get("QUERY_STRING", "")))
        results = product_search(
            query=filters.get("q", ""),
            mode=filters["mode"],
            category=filters.get("category") or None,
            min_price=filters.get("min_price"),
            max_price=filters.get("max_price"),
            in_stock=filters["in_stock"],
        )
        if results.queryset is None:  # a ranked search: its own list of ids
            products, paginator = results, Pagination()
        else:
            products = results.queryset.values(*PRODUCT_VALUES)
            if filters["in_stock"]:
                paginator = Pagination()
            else:
                paginator = CachedCountPagination({k: v for k, v in filters.items() if k not in ("limit", "offset")})
        page = paginator.paginate_queryset(products, request, view=self)
        return paginator.get_paginated_response(ProductSerializer(page, many=True, context={"request": request}).data)

    @extend_schema(
        operation_id="products_create",
        request=ProductCreateSerializer,
        responses={201: ProductDetailSerializer, **error_responses(400, 401, 403, 409)},
    )
    def post(self, request):
        """Add a product (staff only)."""
        serializer = ProductCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        product = product_create(**serializer.validated_data)
        return Response(
            ProductDetailSerializer(product, context={"request": request}).data, status=status.HTTP_201_CREATED
        )


@extend_schema(parameters=[SKU_PARAMETER])
class ProductDetailApi(StaffWritesMixin, APIView):
    @extend_schema(operation_id="products_retrieve", responses={200: ProductDetailSerializer, **error_responses(404)})
    def get(self, request, sku):
        """Return one product; inactive products exist only for staff."""
        product = product_get(sku=sku, include_inactive=request.user.is_staff)
        return Response(ProductDetailSerializer(product, context={"request": request}).data)

    @extend_schema(
        operation_id="products_partial_update",
        request=ProductWriteSerializer(partial=True),
        responses={200: ProductDetailSerializer, **error_responses(400, 401, 403, 404)},
    )
    def patch(self, request, sku):
        """Change some fields of a product (staff only; the SKU stays)."""
        product = product_get(sku=sku, include_inactive=True)
        serializer = ProductWriteSerializer(data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        product = product_update(product=product, **serializer.validated_data)
        return Response(ProductDetailSerializer(product, context={"request": request}).data)

    @extend_schema(operation_id="products_destroy", responses={204: None, **error_responses(401, 403, 404)})
    def delete(self, request, sku):
        """Delete a product (staff only)."""
        product_delete(product=product_get(sku=sku, include_inactive=True))
        return Response(status=status.HTTP_204_NO_CONTENT)
