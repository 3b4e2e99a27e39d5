"""Data the workspace references without copying: the fsspec storage layer behind every datastore kind and
the file/tabular readers behind datasets. Shared by the service (core/) and the client (sdk/), so it knows
neither the store nor the server."""
