"""Talking to the Portkey gateway: ``headers`` (per-request headers, the ``x-portkey-config``,
:func:`chat_request`), ``fallback`` (fallback chains across models and Regions) and ``client``
(httpx clients that put fresh credentials on every request)."""
