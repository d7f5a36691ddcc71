"""The review hub: the PC that watches and analyses serves its review queue to the practice's
other PCs over TLS on the LAN (issue 18). `tls.py` the hub's own certificate, `pairing.py`
one-time codes and client tokens, `routes.py` the JSON API (Starlette), `server.py` uvicorn in
a thread of the service, `client.py` the client side (certificate pinning, token in the keyring).
"""
