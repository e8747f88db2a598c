"""Countries as ISO 3166-1 alpha-2 codes, named in the active language (names from Babel's CLDR data)."""

from functools import cache

from babel import Locale
from django.utils.translation import get_language, to_locale
from django.utils.translation import gettext as _

from mcpshop_site.exceptions import InvalidInput

# CLDR's two-letter territories that are not ISO 3166-1 countries (exceptional reservations, groupings, unknown).
_NOT_ISO = frozenset({"AC", "CP", "CQ", "DG", "EA", "EU", "EZ", "IC", "QO", "TA", "UN", "XA", "XB", "XK", "ZZ"})


@cache
def _names(locale: str) -> dict[str, str]:
    territories = Locale.parse(locale).territories
    return {
        code: name for code, name in territories.items() if len(code) == 2 and code.isalpha() and code not in _NOT_ISO
    }


COUNTRY_CODES = frozenset(_names("en"))


def country_name(code: str) -> str:
    """Return the country's name in the active language (its code if unknown)."""
    return _names(_locale()).get(code, code)


def country_choices() -> list[tuple[str, str]]:
    """Return (code, name) for every country, sorted by name in the active language."""
    names = _names(_locale())
    return sorted(names.items(), key=lambda item: item[1])


def _locale() -> str:
    language = get_language() or "en"
    return "zh_Hans" if language.startswith("zh") else to_locale(language).split("_")[0]


def validate_country(code) -> str:
    """Return `code` as a country code in capitals, or raise InvalidInput."""
    value = str(code or "").strip().upper()
    if value not in COUNTRY_CODES:
        raise InvalidInput(_("Country must be a two-letter ISO 3166-1 code, e.g. CN."), field="country")
    return value
