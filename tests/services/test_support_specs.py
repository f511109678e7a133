"""The support desk's specifications (tests/integration/test_support_api.py) run again on the
in-memory fakes of every port (tests/fakes/support.py), so the fake behaves as the DynamoDB store:
the same requests, the same answers."""

from __future__ import annotations

import pytest

from tests.integration import test_support_api as specs

pytestmark = pytest.mark.fakes

org = specs.org
test_a_user_opens_a_personal_issue_as_its_caller_and_reporter = (
    specs.test_a_user_opens_a_personal_issue_as_its_caller_and_reporter
)
test_bad_input_is_a_400_in_drfs_shape_and_nothing_is_stored = (
    specs.test_bad_input_is_a_400_in_drfs_shape_and_nothing_is_stored
)
test_scopes_follow_waldurs_rules_for_who_may_report_there = (
    specs.test_scopes_follow_waldurs_rules_for_who_may_report_there
)
test_the_visibility_matrix = specs.test_the_visibility_matrix
test_a_reporter_who_is_not_the_caller_sees_the_issue_after_losing_the_desk = (
    specs.test_a_reporter_who_is_not_the_caller_sees_the_issue_after_losing_the_desk
)
test_only_the_desk_changes_sets_status_and_deletes_issues = (
    specs.test_only_the_desk_changes_sets_status_and_deletes_issues
)
test_comments_public_and_internal = specs.test_comments_public_and_internal
test_issue_filters_and_orderings = specs.test_issue_filters_and_orderings
test_support_users_are_the_desks_to_read_and_staffs_to_write = (
    specs.test_support_users_are_the_desks_to_read_and_staffs_to_write
)
test_deleting_an_issue_with_many_comments_takes_them_all = (
    specs.test_deleting_an_issue_with_many_comments_takes_them_all
)
test_the_desk_sets_a_priority_by_the_name_of_one_of_support_priorities = (
    specs.test_the_desk_sets_a_priority_by_the_name_of_one_of_support_priorities
)
