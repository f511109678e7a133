"""Specifications of what the site agent reads and reports (per-user usages and limits, the
orders' modified window, backend id and provider detail) again on the DynamoDB store under moto:
the keys, the consistent reads a report makes, a limit's moves, the order's stored backend id."""

from __future__ import annotations

import pytest

from tests.integration import test_marketplace_orders_agent_api as orders
from tests.integration import test_marketplace_user_usages_api as shares

pytestmark = [pytest.mark.stack, pytest.mark.moto]

market, resource, usage, account = shares.market, shares.resource, shares.usage, shares.account
other_account = shares.other_account

test_a_report_and_its_replacement = shares.test_the_provider_reports_a_users_share_and_the_total_stays
test_the_bulk_report = shares.test_the_bulk_report_sets_every_users_share_at_once
test_the_site_agents_reads_answer = shares.test_the_site_agents_reads_answer
test_the_limits_lifecycle = shares.test_the_consumer_limits_a_user_and_both_sides_read_it
test_a_share_names_its_offerings_account = shares.test_a_share_names_an_account_of_the_usages_offering
test_a_limit_names_its_offerings_account = shares.test_a_limit_names_an_account_of_the_resources_offering
test_the_modified_window = orders.test_the_modified_window_filters_an_offerings_orders
test_the_orders_backend_id = orders.test_the_provider_sets_the_orders_backend_id
test_the_provider_order_detail = orders.test_the_provider_reads_one_order_of_its_offering
