"""Two indexes fewer on benefits_payment, the largest table (20 million rows at national size).

- The member's own index goes: payment_member_paid_on starts with the member and serves every lookup by
  member (and gives a member's months without a sort).
- external_id stays unique through a named constraint instead of unique=True, which on PostgreSQL also
  built a LIKE 'prefix%' index that no query uses.

Django's own operations would rebuild the unique index and drop and re-validate the foreign key, locking
the table for minutes at national size. On PostgreSQL this migration instead drops the two indexes and
renames the unique constraint, which keeps its index: a moment. Elsewhere (SQLite) Django's operations run.
"""

from django.db import migrations, models
from django.db.models import deletion

TABLE = "benefits_payment"

OPERATIONS = [
    migrations.AlterField(
        model_name="payment",
        name="external_id",
        field=models.CharField(max_length=64, verbose_name="référence du paiement"),
    ),
    migrations.AlterField(
        model_name="payment",
        name="member",
        field=models.ForeignKey(
            db_index=False, on_delete=deletion.PROTECT, related_name="payments", to="registry.member"
        ),
    ),
    migrations.AddConstraint(
        model_name="payment",
        constraint=models.UniqueConstraint(fields=("external_id",), name="payment_external_id_unique"),
    ),
]


class OnPostgreSQLInPlace(migrations.SeparateDatabaseAndState):
    """OPERATIONS on the models everywhere; on PostgreSQL, in-place statements instead of their rebuilds."""

    def __init__(self):
        super().__init__(state_operations=OPERATIONS, database_operations=OPERATIONS)

    def _names(self, schema_editor):
        # The names Django gave them (0001_initial): the foreign key's index and the LIKE index.
        return (
            schema_editor._create_index_name(TABLE, ["member_id"]),
            schema_editor._create_index_name(TABLE, ["external_id"], suffix="_like"),
        )

    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor != "postgresql":
            return super().database_forwards(app_label, schema_editor, from_state, to_state)
        member_index, like_index = self._names(schema_editor)
        schema_editor.execute(f'DROP INDEX IF EXISTS "{member_index}"')
        schema_editor.execute(f'DROP INDEX IF EXISTS "{like_index}"')
        schema_editor.execute(
            f'ALTER TABLE "{TABLE}" RENAME CONSTRAINT "{TABLE}_external_id_key" TO "payment_external_id_unique"'
        )

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor != "postgresql":
            return super().database_backwards(app_label, schema_editor, from_state, to_state)
        member_index, like_index = self._names(schema_editor)
        schema_editor.execute(
            f'ALTER TABLE "{TABLE}" RENAME CONSTRAINT "payment_external_id_unique" TO "{TABLE}_external_id_key"'
        )
        schema_editor.execute(f'CREATE INDEX "{like_index}" ON "{TABLE}" ("external_id" varchar_pattern_ops)')
        schema_editor.execute(f'CREATE INDEX "{member_index}" ON "{TABLE}" ("member_id")')

    def deconstruct(self):
        return self.__class__.__name__, [], {}

    def describe(self):
        return "Payment: no index of the member's own, external_id unique by a named constraint"


class Migration(migrations.Migration):
    dependencies = [
        ("benefits", "0001_initial"),
        ("registry", "0001_initial"),
    ]

    operations = [OnPostgreSQLInPlace()]
