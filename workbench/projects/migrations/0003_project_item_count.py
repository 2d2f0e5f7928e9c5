from django.db import migrations, models
from django.db.models import Count, OuterRef, Subquery
from django.db.models.functions import Coalesce


def count_items(apps, schema_editor):  # type: ignore[no-untyped-def]
    Project = apps.get_model("projects", "Project")
    Item = apps.get_model("projects", "Item")
    counts = Item.objects.filter(project=OuterRef("pk")).values("project").annotate(n=Count("id")).values("n")
    Project.objects.update(item_count=Coalesce(Subquery(counts), 0))


class Migration(migrations.Migration):
    dependencies = [
        ("projects", "0002_item_sides"),
    ]

    operations = [
        migrations.AddField(
            model_name="project",
            name="item_count",
            field=models.PositiveIntegerField(default=0),
        ),
        migrations.RunPython(count_items, migrations.RunPython.noop),
    ]
