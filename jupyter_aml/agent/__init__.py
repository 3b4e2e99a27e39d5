"""The run agent: ``python -m jupyter_aml.agent`` runs one run on a compute target.

It fetches the snapshot, prepares the environment, runs the script while streaming its logs, heartbeats
and journal to the service, then uploads outputs and reports the final status. Stdlib only (plus
``jupyter_aml.errors`` and ``jupyter_aml.runtime``): it must start inside any Python environment.
"""
