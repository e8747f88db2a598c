from django import template

from policies.selectors import policy_list_published

register = template.Library()


@register.simple_tag
def published_policies():
    """`{% published_policies as policies %}`: the published policy pages, for the footer's links."""
    return policy_list_published()
