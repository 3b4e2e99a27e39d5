"""A scoring script that forgot init() (and names its function wrongly): it must never take traffic."""


def predict(raw_data):
    return raw_data
