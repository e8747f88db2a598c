"""Template helpers for the storefront: money from integer cents in the shop's currency, product grids,
page fragments that are the same for every shopper rendered once per process."""

import itertools
import re
import secrets

from django import template
from django.conf import settings
from django.core.signals import setting_changed
from django.dispatch import receiver
from django.urls import get_script_prefix
from django.utils.safestring import mark_safe
from django.utils.translation import get_language

from catalog import cache
from mcpshop_site.money import money

register = template.Library()

register.filter("money", money)


@register.simple_tag(takes_context=True)
def product_grid(context, products, hide_empty=False):
    """Render partials/product_grid.html for `products`, cached (see catalog.cache.product_grid)."""
    return cache.product_grid(
        context["request"], products, csrf_token=context.get("csrf_token", ""), hide_empty=hide_empty
    )


# --- Fragments of a page that are the same for every shopper -------------------------------------------
#
# `{% cachefragment "name" vary... %}...{% endcachefragment %}` renders its content once per process for
# each language and set of `vary` values (a few booleans: never a per-shopper value), and serves the stored
# HTML from then on. What does differ per request goes in `{% live %}...{% endlive %}` inside it: stored as
# a marker and rendered with the request's context each time (the CSRF token, the page's own address, the
# cart badge). A live part renders in the context of the fragment's own tag, so it must not use a variable
# set inside the fragment (a `{% for %}` or `{% with %}` around it). The content may depend only on what is
# fixed while a process runs (templates, translations, URLs under the script prefix, which is part of the
# key, static file names): with DEBUG, when templates change under a running server, nothing is stored;
# a changed setting (tests) empties the store.

_fragments: dict[tuple, list] = {}
_LIVE = f"\x00live-{secrets.token_hex(8)}-"  # marks a live part in a fragment's first rendering
_LIVE_PARTS = re.compile(re.escape(_LIVE) + r"(\d+)\x00")
_HOLES = "_cachefragment_live_parts"  # context variable: the list the live parts of a rendering register in


@receiver(setting_changed)
def _forget_fragments(**kwargs) -> None:
    _fragments.clear()


class LiveNode(template.Node):
    def __init__(self, nodelist):
        self.nodelist = nodelist

    def render(self, context):
        holes = context.get(_HOLES)
        if holes is None:  # not inside a fragment being stored
            return self.nodelist.render(context)
        holes.append(self.nodelist)
        return f"{_LIVE}{len(holes) - 1}\x00"


class CacheFragmentNode(template.Node):
    def __init__(self, name, vary, nodelist):
        self.name, self.vary, self.nodelist = name, vary, nodelist

    def render(self, context):
        if settings.DEBUG or "request" not in context or _HOLES in context:  # (inside a fragment being stored)
            return self.nodelist.render(context)
        key = (self.name, get_language(), get_script_prefix(), *(value.resolve(context) for value in self.vary))
        parts = _fragments.get(key)
        if parts is None:
            holes = []
            with context.push({_HOLES: holes}):
                html = self.nodelist.render(context)
            # Alternately stored text and the live part's nodes: "a", nodes0, "b", nodes1, "c"
            parts = [
                holes[int(piece)] if odd else piece
                for piece, odd in zip(_LIVE_PARTS.split(html), itertools.cycle((False, True)))
            ]
            _fragments[key] = parts
        return mark_safe(  # noqa: S308  (our templates' output, stored once)
            "".join(part if isinstance(part, str) else part.render(context) for part in parts)
        )


@register.tag
def cachefragment(parser, token):
    """`{% cachefragment "name" [vary ...] %}`: see the notes above CacheFragmentNode."""
    bits = token.split_contents()
    if len(bits) < 2:
        raise template.TemplateSyntaxError("cachefragment takes a name and optional values it varies on")
    nodelist = parser.parse(("endcachefragment",))
    parser.delete_first_token()
    return CacheFragmentNode(bits[1], [parser.compile_filter(bit) for bit in bits[2:]], nodelist)


@register.tag
def live(parser, token):
    """`{% live %}...{% endlive %}`: the per-request part of a `{% cachefragment %}`."""
    nodelist = parser.parse(("endlive",))
    parser.delete_first_token()
    return LiveNode(nodelist)
