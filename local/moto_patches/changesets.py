"""Change-set behaviour of moto's CloudFormation, brought in line with AWS for ``cdk deploy``.

Every ``cdk deploy`` goes DeleteChangeSet (of a left-over ``cdk-deploy-change-set``, "if it
exists") -> CreateChangeSet -> ExecuteChangeSet. moto 5.2 gets three things wrong there:

* executing a change set updates the stack's resources but not its template or outputs, so a
  stack created by ``cdk deploy`` has no outputs and an update keeps stale ones;
* executed change sets are kept (AWS removes a stack's change sets once one is executed);
* deleting a change set that does not exist crashes (HTTP 500, which the SDK retries for ~1 min)
  where AWS answers success, and describing one answers ``ValidationError`` where AWS answers
  ``ChangeSetNotFound`` (which the CLI waits for after its delete);
* ``UsePreviousValue`` (the CLI's ``BootstrapVersion`` on every update) hands back the *resolved*
  value of an SSM-typed parameter (``"33"``), which moto then looks up as an SSM parameter name
  and crashes on; AWS reuses the previous *input* (the parameter path).

:func:`fix_change_sets` patches them; idempotent. In server mode it must run inside the
server process.
"""

from __future__ import annotations

from typing import Any

_patched = False


def fix_change_sets() -> None:
    """Patch moto's change-set handling as described above."""
    global _patched
    if _patched:
        return
    from moto.cloudformation.exceptions import CloudFormationError
    from moto.cloudformation.models import ChangeSet, CloudFormationBackend, Stack
    from moto.cloudformation.parsing import OutputMap

    class ChangeSetNotFound(CloudFormationError):
        code = "ChangeSetNotFound"

    original_apply = ChangeSet.apply
    original_execute = CloudFormationBackend.execute_change_set
    original_delete = CloudFormationBackend.delete_change_set
    original_describe = CloudFormationBackend.describe_change_set

    def apply(self: Any) -> None:
        original_apply(self)
        stack = self.stack
        stack.template_dict = self.template_dict
        stack.description = self.template_dict.get("Description")
        stack.output_map = OutputMap(stack.resource_map, self.template_dict, stack.stack_id)

    def execute_change_set(self: Any, change_set_name: str, stack_name: str | None = None) -> None:
        change_set = _find(self, change_set_name)
        original_execute(self, change_set_name, stack_name)
        if change_set is not None:
            for key, other in list(self.change_sets.items()):
                if other.stack_id == change_set.stack_id:
                    del self.change_sets[key]

    def delete_change_set(self: Any, change_set_name: str) -> None:
        if _find(self, change_set_name) is not None:
            original_delete(self, change_set_name)

    def describe_change_set(self: Any, change_set_name: str) -> Any:
        if _find(self, change_set_name) is None:
            raise ChangeSetNotFound(f"ChangeSet [{change_set_name}] does not exist")
        return original_describe(self, change_set_name)

    def stack_parameters(self: Any) -> dict[str, Any]:
        return previous_inputs(self.resource_map._template, self.resource_map.input_parameters)

    setattr(Stack, "stack_parameters", property(stack_parameters))  # noqa: B010 (patching moto)
    setattr(ChangeSet, "apply", apply)  # noqa: B010
    setattr(CloudFormationBackend, "describe_change_set", describe_change_set)  # noqa: B010
    setattr(CloudFormationBackend, "execute_change_set", execute_change_set)  # noqa: B010
    setattr(CloudFormationBackend, "delete_change_set", delete_change_set)  # noqa: B010
    _patched = True


def previous_inputs(template: dict[str, Any], inputs: dict[str, Any] | None) -> dict[str, Any]:
    """The value each parameter was last given: its input, else the template's Default.

    >>> previous_inputs({"Parameters": {"V": {"Default": "/path"}, "W": {"Default": "x"}}}, {"W": "y"})
    {'V': '/path', 'W': 'y'}
    """
    values = {name: slot.get("Default") for name, slot in template.get("Parameters", {}).items()}
    values.update(inputs or {})
    return values


def _find(backend: Any, name_or_arn: str) -> Any | None:
    if name_or_arn in backend.change_sets:
        return backend.change_sets[name_or_arn]
    for change_set in backend.change_sets.values():
        if change_set.change_set_name == name_or_arn:
            return change_set
    return None
