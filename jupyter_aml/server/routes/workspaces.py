"""Workspaces, experiments, and sharing: members, roles, one's access, the activity log."""

from __future__ import annotations

import asyncio

from jupyter_aml.core import models
from jupyter_aml.core import roles as rbac
from jupyter_aml.core import sharing_models as sm
from jupyter_aml.errors import InvalidInput
from jupyter_aml.server.authz import own_experiment_only
from jupyter_aml.server.base import AMLHandler, api

WS = r"(?P<workspace>[^/]+)"
EXPERIMENT = r"(?P<name>[^/]+)"


class WorkspacesHandler(AMLHandler):
    @api("user", "List the workspaces the caller has a role in", returns=models.WorkspaceList,
         action="workspaces/list")
    async def get(self) -> None:
        items = await asyncio.to_thread(self.aml.workspaces.all)
        if not self.caller.admin:
            mine = await asyncio.to_thread(self.aml.sharing.workspaces_of, self.caller.name)
            items = [w for w in items if w.name in mine]
        self.reply({"items": [w.model_dump(mode="json") for w in items]})

    @api("user", "Create a workspace (its creator becomes its Owner)", body=models.WorkspaceCreate,
         returns=models.Workspace, status=201, action="workspaces/create")
    async def post(self) -> None:
        spec = self.body(models.WorkspaceCreate)
        self.audit_workspace = self.audit_target = spec.name
        self.reply(await asyncio.to_thread(self.aml.workspaces.create, spec, owner=self.caller.name), 201)


class WorkspaceHandler(AMLHandler):
    @api("user", "Get a workspace", returns=models.Workspace, action="workspaces/read")
    async def get(self, workspace: str) -> None:
        self.reply(await asyncio.to_thread(self.aml.workspaces.get, workspace))

    @api("user", "Record Azure identifiers the workspace has none of yet (set once: another value is 409), or "
         "change its description", body=models.WorkspaceUpdate, returns=models.Workspace, action="workspaces/write")
    async def patch(self, workspace: str) -> None:
        spec = self.body(models.WorkspaceUpdate)
        self.audit_detail = spec.model_dump(exclude_none=True)
        self.reply(await asyncio.to_thread(self.aml.workspaces.update, workspace, spec))


EXPERIMENT_QUERY = (
    ("view_type", "string", "ActiveOnly (default: archived experiments hidden), ArchivedOnly or All"),
    ("name", "string", "only the experiment of this name"),
    ("tag", "string", "repeatable: key or key=value"),
)


class ExperimentsHandler(AMLHandler):
    @api("experiment-read", "List a workspace's experiments (archived ones only on request, as v1's "
         "Experiment.list); a run token lists only its run's own experiment", returns=models.ExperimentList,
         query=EXPERIMENT_QUERY, action="workspaces/read")
    async def get(self, workspace: str) -> None:
        name = self.query_value("name")
        run = self.caller.run
        if run is not None:  # a run token sees its own experiment only: the others are not in its reach
            if name is not None and name != run.experiment:
                self.reply({"items": []})
                return
            name = own_experiment_only(name, run, "workspaces/read")
        items = await asyncio.to_thread(
            self.aml.workspaces.experiments, workspace, view_type=self.query_value("view_type"),
            name=name, tags=self.query_list("tag"))
        self.reply({"items": [e.model_dump(mode="json") for e in items]})


class ExperimentHandler(AMLHandler):
    @api("experiment-read", "Get an experiment (also an archived one); a run token gets only its run's own",
         returns=models.Experiment, action="workspaces/read")
    async def get(self, workspace: str, name: str) -> None:
        self.reply(await asyncio.to_thread(self.aml.workspaces.experiment, workspace, name))

    @api("user", "Create the experiment if it does not exist (v1's Experiment(ws, name)), then apply the update",
         body=models.ExperimentUpdate, returns=models.Experiment, action="experiments/write")
    async def put(self, workspace: str, name: str) -> None:
        spec = self.body(models.ExperimentUpdate)
        self.audit_target = name
        self.reply(await asyncio.to_thread(self.aml.workspaces.update_experiment, workspace, name, spec,
                                           create=True))

    @api("user", "Set or remove an experiment's tags", body=models.ExperimentUpdate, returns=models.Experiment,
         action="experiments/write")
    async def patch(self, workspace: str, name: str) -> None:
        spec = self.body(models.ExperimentUpdate)
        self.audit_target = name
        self.reply(await asyncio.to_thread(self.aml.workspaces.update_experiment, workspace, name, spec))


class ExperimentArchiveHandler(AMLHandler):
    @api("user", "Archive an experiment: hidden from the default listing, its runs kept",
         returns=models.Experiment, action="experiments/write")
    async def post(self, workspace: str, name: str) -> None:
        self.audit_target = name
        self.reply(await asyncio.to_thread(self.aml.workspaces.archive_experiment, workspace, name))


class ExperimentReactivateHandler(AMLHandler):
    @api("user", "Reactivate an archived experiment, optionally under a new name (409 if it is not archived or "
         "the name is taken)", body=models.ExperimentReactivate, returns=models.Experiment,
         action="experiments/write")
    async def post(self, workspace: str, name: str) -> None:
        spec = self.body(models.ExperimentReactivate)
        self.audit_target = name
        if spec.new_name:
            self.audit_detail = {"new_name": spec.new_name}
        self.reply(await asyncio.to_thread(self.aml.workspaces.reactivate_experiment, workspace, name,
                                           spec.new_name))


class MembersHandler(AMLHandler):
    @api("user", "The workspace's members and their roles", returns=sm.MemberList, action="members/read")
    async def get(self, workspace: str) -> None:
        self.reply(sm.MemberList(items=await asyncio.to_thread(self.aml.sharing.members, workspace)))


class MemberHandler(AMLHandler):
    @api("user", "Add a member or change a member's role (the last Owner cannot be demoted: 409)",
         body=sm.MemberSet, returns=sm.Member, action="members/write")
    async def put(self, workspace: str, user: str) -> None:
        spec = self.body(sm.MemberSet)
        sm.check_user(user)
        self.audit_detail = {"role": spec.role}
        member = await asyncio.to_thread(self.aml.sharing.set_member, workspace, user, spec.role, by=self.caller.name)
        self.reply(member)

    @api("user", "Remove a member (the last Owner cannot be removed: 409)", action="members/write", status=204)
    async def delete(self, workspace: str, user: str) -> None:
        await asyncio.to_thread(self.aml.sharing.remove_member, workspace, user)
        self.set_status(204)
        self.finish()


class RolesHandler(AMLHandler):
    @api("user", "The roles one can give in this workspace: built-in and custom", returns=sm.RoleList,
         action="roles/read")
    async def get(self, workspace: str) -> None:
        self.reply(sm.RoleList(items=await asyncio.to_thread(self.aml.sharing.roles, workspace)))


class RoleHandler(AMLHandler):
    @api("user", "Create or replace a custom role (a list of allowed action patterns minus excluded ones)",
         body=sm.RoleSet, returns=sm.Role, action="roles/write")
    async def put(self, workspace: str, name: str) -> None:
        spec = self.body(sm.RoleSet)
        sm.check_role_name(name)
        self.audit_detail = {"actions": spec.actions, "not_actions": spec.not_actions}
        self.reply(await asyncio.to_thread(self.aml.sharing.set_role, workspace, name, spec, by=self.caller.name))

    @api("user", "Delete a custom role (409 while someone holds it)", action="roles/write", status=204)
    async def delete(self, workspace: str, name: str) -> None:
        await asyncio.to_thread(self.aml.sharing.delete_role, workspace, name)
        self.set_status(204)
        self.finish()


class AccessHandler(AMLHandler):
    @api("user", "The caller's own role in the workspace and the actions it allows", returns=sm.Access,
         action="workspaces/read")
    async def get(self, workspace: str) -> None:
        caller = self.caller
        self.reply(await asyncio.to_thread(self.aml.sharing.access, workspace, caller.name, admin=caller.admin))


class ActivityHandler(AMLHandler):
    @api("user", "The workspace's activity log, newest first", returns=sm.ActivityPage, action="activity/read",
         query=(("after", "string", "the next_cursor of the page before"),
                ("limit", "integer", "items per page, 1-500 (default 50)")))
    async def get(self, workspace: str) -> None:
        limit = self.query_int("limit", 50)
        if not 1 <= limit <= 500:
            raise InvalidInput(f"limit must be 1-500, not {limit}", hint="page with next_cursor instead")
        after = self.get_query_argument("after", None) or None
        self.reply(await asyncio.to_thread(self.aml.sharing.activity, workspace, after=after, limit=limit))


class ActionsHandler(AMLHandler):
    @api("user", "Every action a role can allow, for writing custom roles", returns=sm.ActionList,
         action="service/read")
    async def get(self) -> None:
        self.reply({"items": [{"name": a.name, "description": a.description} for a in rbac.ACTIONS.values()]})


ROUTES = [
    (r"/workspaces", WorkspacesHandler),
    (rf"/workspaces/{WS}", WorkspaceHandler),
    (rf"/workspaces/{WS}/experiments", ExperimentsHandler),
    (rf"/workspaces/{WS}/experiments/{EXPERIMENT}", ExperimentHandler),
    (rf"/workspaces/{WS}/experiments/{EXPERIMENT}/archive", ExperimentArchiveHandler),
    (rf"/workspaces/{WS}/experiments/{EXPERIMENT}/reactivate", ExperimentReactivateHandler),
    (rf"/workspaces/{WS}/members", MembersHandler),
    (rf"/workspaces/{WS}/members/(?P<user>[^/]+)", MemberHandler),
    (rf"/workspaces/{WS}/roles", RolesHandler),
    (rf"/workspaces/{WS}/roles/(?P<name>[^/]+)", RoleHandler),
    (rf"/workspaces/{WS}/access", AccessHandler),
    (rf"/workspaces/{WS}/activity", ActivityHandler),
    (r"/actions", ActionsHandler),
]
