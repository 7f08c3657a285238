"""Talking to peers safely: network options (TLS, proxy, gateway headers) and one bounded exchange."""
