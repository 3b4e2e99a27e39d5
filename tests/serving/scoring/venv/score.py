"""Scores with a package that only the environment's venv has, and says which interpreter runs it."""

import json
import sys

import six


def init():
    pass


def run(raw_data):
    return {"six": six.__version__, "prefix": sys.prefix, "echo": json.loads(raw_data)}
