"""oauthlib's server as the shop runs it."""

from oauthlib.oauth2 import Server
from oauthlib.oauth2.rfc6749.grant_types.authorization_code import code_challenge_method_s256


class ShopServer(Server):
    """PKCE with S256 only: `plain`, and a challenge without a method (which RFC 7636 reads as plain), are
    refused at the authorization request, before the shopper is asked anything (django-oauth-toolkit's
    RFC 9700 gate refuses plain only when the code is saved, after the consent)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.auth_grant._code_challenge_methods = {"S256": code_challenge_method_s256}
