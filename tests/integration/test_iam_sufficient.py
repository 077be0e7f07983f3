"""The other half of least privilege: every AWS call a function really makes, through the whole
flow and every kind of allowlist edit, is one its own IAM policy in template.yaml grants."""

from tests.integration.conftest import CONSUMER, OWNER, SEED_ALLOWLIST
from tests.unit.test_template import FUNCTIONS, as_list, statements

THIRD = "121212121212"


def granted_actions(function: str) -> set[str]:
    return {action for statement in statements(FUNCTIONS[function]) for action in as_list(statement["Action"])}


def test_every_call_a_function_makes_is_granted_by_its_policy(world):
    world.install(OWNER, CONSUMER, THIRD)
    for name in ("churn-xgb", "churn-lr", "fraud-detector"):
        world.create_group(OWNER, name)
    world.settle()
    wider = {"version": 1, "shares": [{**SEED_ALLOWLIST["shares"][0], "consumers": [CONSUMER, THIRD]}]}
    world.edit_allowlist(wider)
    world.edit_allowlist({"version": 1, "shares": [{**SEED_ALLOWLIST["shares"][0], "consumers": [THIRD]}]})
    world.client(OWNER, "sagemaker").delete_model_package_group(ModelPackageGroupName="fraud-detector")
    world.settle()
    world.edit_allowlist({"version": 1, "shares": []})
    world.run_for(hours=1)
    assert world.discoverable(CONSUMER) == [] and world.lambdas.failures == []

    used: dict[str, set[str]] = {}
    for call in world.cloud.calls:
        if call.caller is not None:
            used.setdefault(call.caller, set()).add(f"{call.service}:{call.operation}")
    assert set(used) == set(FUNCTIONS), "every function ran"
    for function, actions in used.items():
        assert actions <= granted_actions(function), f"{function} calls {sorted(actions - granted_actions(function))}"
    expected_writes = {"sagemaker:PutModelPackageGroupPolicy", "ram:PromoteResourceShareCreatedFromPolicy",
                       "ram:AssociateResourceShare", "ram:DisassociateResourceShare", "ram:DeleteResourceShare"}
    assert expected_writes <= set().union(*used.values()), "the flow exercised the writes this test is about"
