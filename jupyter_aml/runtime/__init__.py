"""In-run runtime: environment variables, the journal and the stdlib HTTP client.

Everything under ``jupyter_aml.runtime`` imports only the standard library and ``jupyter_aml.errors``:
it runs inside user environments that contain nothing but the user's own requirements.
"""
