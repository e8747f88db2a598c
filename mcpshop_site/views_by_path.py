"""Which view serves a path, memoised: the HTTP handler (is the view async?) and the response cache (is it the
same for every shopper?) both ask before Django resolves the path again for the view itself. Resolving walks
the URL patterns, about a fifth of a cached page's CPU; most requests are for a few hot paths."""

from functools import lru_cache

from django.urls import Resolver404, URLResolver, get_resolver, get_urlconf

PATHS = 2048  # most paths remembered: anyone can ask for new ones, so the memo is bounded


@lru_cache(maxsize=PATHS)
def _view(resolver: URLResolver, path: str):
    try:
        return resolver.resolve(path).func
    except Resolver404:
        return None


def view_for(path: str):
    """Return the view function serving `path` (a request's path_info), or None where no pattern matches.

    Keyed by the resolver itself: a different URLconf (a request's own, or the settings' changed in a test,
    which makes Django build new resolvers) never meets another's answers.
    """
    return _view(get_resolver(get_urlconf()), path)
