from django.db.models import QuerySet

from workbench.annotations.models import Annotation
from workbench.projects.models import Project


def annotations_of(project: Project) -> QuerySet[Annotation]:
    return Annotation.objects.filter(project=project).select_related("annotator", "item").order_by("id")
