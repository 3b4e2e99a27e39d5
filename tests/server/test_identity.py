"""Who Jupyter's users are to the service, per deployment (c.AMLExtension.users / admins)."""

from __future__ import annotations

from jupyter_aml.server.authz import Identity


def test_a_personal_lab_has_one_administrator(monkeypatch):
    monkeypatch.delenv("JUPYTERHUB_USER", raising=False)
    identity = Identity.configured("auto", set())
    assert identity.mode == "single"
    first, second = identity.jupyter_user("3f2a..."), identity.jupyter_user("9bc1...")
    assert first == second and first.admin and first.name == identity.local_user
    assert not identity.named("bob").admin  # a named token is a user, whatever the mode


def test_under_jupyterhub_each_user_is_themselves_and_the_owner_administers(monkeypatch):
    monkeypatch.setenv("JUPYTERHUB_USER", "alice")
    identity = Identity.configured("auto", {"carol"})
    assert identity.mode == "jupyter"
    assert identity.jupyter_user("alice").admin and identity.service().name == "alice"
    bob = identity.jupyter_user("bob")
    assert bob.name == "bob" and not bob.admin
    assert identity.jupyter_user("carol").admin  # c.AMLExtension.admins


def test_single_mode_can_be_chosen_under_jupyterhub(monkeypatch):
    monkeypatch.setenv("JUPYTERHUB_USER", "alice")
    identity = Identity.configured("single", set())
    assert identity.jupyter_user("bob").name == "alice"
