"""In-run runtime: what runs inside user environments, shared by the run agent and the SDK.

``env`` (run variables), ``journal`` (the local log of metrics), ``http`` (the transport), ``api`` (the one
REST client, typed by the generated ``api_types``), ``sse`` (the push channel's reader), ``shipper``
(journal -> service) and ``heartbeat`` (the one heartbeat loop). Everything here imports only the
standard library and ``jupyter_aml.errors``/``statuses``: user environments hold nothing else.
"""
