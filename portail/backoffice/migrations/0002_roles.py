"""The three roles as groups. Their permissions are set by roles_sync after every migrate (permissions
only exist once every app has migrated)."""

from django.db import migrations

GROUP_NAMES = ["Agent", "Superviseur", "Administrateur"]


def create_groups(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    for name in GROUP_NAMES:
        Group.objects.using(schema_editor.connection.alias).get_or_create(name=name)


class Migration(migrations.Migration):
    dependencies = [
        ("backoffice", "0001_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
    ]

    operations = [migrations.RunPython(create_groups, migrations.RunPython.noop)]
