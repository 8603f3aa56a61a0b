"""The payments table's indexes (migration 0002): no index the queries do not use."""

import pytest
from django.db import connection


@pytest.mark.django_db
def test_payments_carry_one_index_per_lookup_and_no_other():
    with connection.cursor() as cursor:
        constraints = connection.introspection.get_constraints(cursor, "benefits_payment")
    indexed = [tuple(found["columns"]) for found in constraints.values() if found["index"] or found["unique"]]
    # By member: the index that also orders a member's payments by date, not one of the member alone.
    assert ("member_id", "paid_on") in indexed and ("member_id",) not in indexed
    # By reference: the unique constraint's index, and no LIKE index beside it on PostgreSQL.
    assert indexed.count(("external_id",)) == 1
    assert constraints["payment_external_id_unique"]["unique"]
