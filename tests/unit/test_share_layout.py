"""The shares mode's layout: which of modelshare's shares holds which group (pure)."""

from __future__ import annotations

import pytest

from modelshare.share_layout import Bucket, lay_out, parse_share_name, share_name

A = Bucket.of(["444455556666"], ["sagemaker:DescribeModelPackage"]).digest
B = Bucket.of(["444455556666", "777788889999"], ["sagemaker:DescribeModelPackage"]).digest


def groups(*numbers: int) -> list[str]:
    return [f"arn:group/g{n:03d}" for n in numbers]


def test_a_bucket_is_the_same_whatever_the_order_or_case_it_is_given_in() -> None:
    one = Bucket.of(["777788889999", "444455556666"], ["sagemaker:ListModelPackages", "SageMaker:CreateModel"])
    two = Bucket.of(["444455556666", "777788889999", "444455556666"], ["sagemaker:createmodel", "sagemaker:listmodelpackages"])
    assert one == two and one.digest == two.digest
    assert Bucket.of(["444455556666"], ["sagemaker:CreateModel"]).digest != one.digest


def test_share_names_carry_the_bucket_and_number_and_nothing_else_parses() -> None:
    assert parse_share_name(share_name(A, 3)) == (A, 3)
    for name in ("LinkedResourceShare", f"modelshare-{A}-0", f"modelshare-{A}-x", f"modelshare-{A}", f"modelshare-{A}-1 "):
        assert parse_share_name(name) is None


def test_new_groups_fill_the_first_share_then_a_new_one_opens_when_it_is_full() -> None:
    layout = lay_out(dict.fromkeys(groups(1, 2, 3, 4, 5), A), {}, groups_per_share=2)
    assert layout == {share_name(A, 1): tuple(groups(1, 2)), share_name(A, 2): tuple(groups(3, 4)),
                      share_name(A, 3): tuple(groups(5))}


def test_a_group_already_in_a_share_of_its_bucket_stays_and_new_ones_fill_the_lowest_share_with_room() -> None:
    current = {share_name(A, 1): groups(2, 9), share_name(A, 2): groups(1)}
    layout = lay_out(dict.fromkeys(groups(1, 2, 3, 4, 9), A), current, groups_per_share=3)
    assert layout == {share_name(A, 1): tuple(groups(2, 3, 9)), share_name(A, 2): tuple(groups(1, 4))}


def test_a_group_whose_bucket_changed_leaves_its_share_for_one_of_the_new_bucket() -> None:
    current = {share_name(A, 1): groups(1, 2)}
    layout = lay_out({groups(1)[0]: A, groups(2)[0]: B}, current)
    assert layout == {share_name(A, 1): tuple(groups(1)), share_name(B, 1): tuple(groups(2))}


def test_a_group_no_longer_shared_leaves_and_a_share_left_empty_is_named_empty() -> None:
    current = {share_name(A, 1): groups(1), share_name(A, 2): groups(2)}
    assert lay_out(dict.fromkeys(groups(1), A), current) == {share_name(A, 1): tuple(groups(1)), share_name(A, 2): ()}


def test_a_group_held_by_two_shares_of_its_bucket_stays_in_the_lower_numbered_one_only() -> None:
    current = {share_name(A, 2): groups(1), share_name(A, 1): groups(1)}
    assert lay_out(dict.fromkeys(groups(1), A), current) == {share_name(A, 1): tuple(groups(1)), share_name(A, 2): ()}


def test_a_share_over_a_lowered_cap_keeps_its_first_groups_and_the_rest_go_where_there_is_room() -> None:
    current = {share_name(A, 1): groups(1, 2, 3), share_name(A, 3): groups(4)}
    layout = lay_out(dict.fromkeys(groups(1, 2, 3, 4), A), current, groups_per_share=2)
    assert layout == {share_name(A, 1): tuple(groups(1, 2)), share_name(A, 3): tuple(groups(3, 4))}
    full = lay_out(dict.fromkeys(groups(1, 2, 3, 4, 5), A), current, groups_per_share=2)
    assert full[share_name(A, 2)] == tuple(groups(5)), "the lowest free number opens"


def test_a_share_under_a_name_modelshare_does_not_give_is_emptied() -> None:
    current = {"renamed-by-someone": groups(1)}
    assert lay_out(dict.fromkeys(groups(1), A), current) == {"renamed-by-someone": (), share_name(A, 1): tuple(groups(1))}


def test_the_layout_does_not_depend_on_the_order_things_are_listed_in() -> None:
    wanted = {g: (A if i % 2 else B) for i, g in enumerate(groups(*range(20)))}
    current = {share_name(A, 1): groups(1, 3), share_name(B, 1): groups(0)}
    reversed_wanted = dict(reversed(list(wanted.items())))
    reversed_current = {k: list(reversed(v)) for k, v in reversed(list(current.items()))}
    assert lay_out(wanted, current, groups_per_share=4) == lay_out(reversed_wanted, reversed_current, groups_per_share=4)


def test_a_cap_below_one_is_refused() -> None:
    with pytest.raises(ValueError, match="groups_per_share"):
        lay_out({}, {}, groups_per_share=0)
