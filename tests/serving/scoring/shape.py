"""Answers the shape of ``{"data": [[...], ...]}``: a whole test set in one request, as Azure's tutorials send."""

import json


def init():
    pass


def run(raw_data):
    data = json.loads(raw_data)["data"]
    return {"rows": len(data), "columns": len(data[0]) if data else 0, "bytes": len(raw_data)}
