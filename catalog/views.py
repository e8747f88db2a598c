from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import render
from django.utils.functional import SimpleLazyObject
from django.views.decorators.http import require_safe

from catalog.cache import CachedCountPaginator, categories, category_cached
from catalog.exceptions import ProductNotFound
from catalog.forms import ProductFilterForm
from catalog.models import Category
from catalog.search import product_search
from catalog.selectors import PRODUCT_SORTS, product_featured, product_get, product_list
from mcpshop_site.response_cache import same_for_everyone

PAGE_SIZE = 24
NARROWING = ("category", "min_price", "max_price", "in_stock")  # the search filters besides the words
HOME_SIZE = 8


def _page(request, queryset, paginator=Paginator):
    return paginator(queryset, PAGE_SIZE).get_page(request.GET.get("page"))


@same_for_everyone
@require_safe
def home(request):
    """The front page: the shelves, featured products and what is new (querysets: a cached grid reads only
    the columns of its key, see catalog.cache.product_grid)."""
    return render(
        request,
        "catalog/home.html",
        {
            "categories": categories(),
            "featured": product_featured(limit=HOME_SIZE),
            "newest": product_list()[:HOME_SIZE],
        },
    )


@same_for_everyone
@require_safe
def category(request, slug):
    """One shelf, paginated and sorted by `?sort=`."""
    try:
        shelf = category_cached(slug=slug)
    except Category.DoesNotExist:
        raise Http404 from None
    sort = request.GET.get("sort")
    sort = sort if sort in PRODUCT_SORTS else "newest"
    products = product_list(category=shelf.slug, sort=sort)
    paginator = CachedCountPaginator(products, PAGE_SIZE, filters={"category": shelf.slug})
    return render(
        request,
        "catalog/category_detail.html",
        {
            "category": shelf,
            "page": paginator.get_page(request.GET.get("page")),
            "sort": sort,
            # Built only when the sort menu is rendered: once per language and sort ({% cachefragment %}, shop.py)
            "form": SimpleLazyObject(lambda: ProductFilterForm(initial={"sort": sort})),
        },
    )


@same_for_everyone
@require_safe
def product(request, sku):
    """A product page with its price, stock and an add-to-cart form (the cart's own, from its template tag)."""
    try:
        item = product_get(sku=sku)
    except ProductNotFound:
        raise Http404 from None
    return render(request, "catalog/product_detail.html", {"product": item})


@require_safe
def search(request):
    """Hybrid search (words and meaning) with filters (category, price range in yuan, in stock) and sorting.

    Each result says why it was found; when semantic search cannot run, the words alone answer.
    """
    shelves = categories()
    form = ProductFilterForm(request.GET or None, categories=shelves, search=True)
    filters = form.filters()
    results = product_search(mode="hybrid", **filters)
    return render(
        request,
        "catalog/search.html",
        {
            "form": form,
            "query": filters["query"],
            "page": _page(request, results),
            "semantic_error": results.semantic_error,
            "capped": results.capped,
            # When nothing matches: the shelves to browse instead, or (when filters narrowed it) a hint to widen them.
            "shelves": [shelf for shelf in shelves if shelf.product_count],
            "filtered": any(value not in (None, "", False) for key, value in filters.items() if key in NARROWING),
        },
    )
