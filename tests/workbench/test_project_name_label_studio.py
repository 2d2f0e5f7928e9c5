"""The project-name limits the API checks (3..50 characters) are the real Label Studio's: a title
at each limit is taken, one character outside it is refused (issue 13, defect 7)."""

from __future__ import annotations

import uuid

import pytest

from workbench.labelstudio.types import PROJECT_TITLE_MAX_CHARS, PROJECT_TITLE_MIN_CHARS, LabelStudioError

pytestmark = pytest.mark.label_studio
CONFIG = (
    '<View><Text name="text" value="$text"/>'
    '<Choices name="c" toName="text"><Choice value="a"/></Choices></View>'
)


def _title(length: int) -> str:
    return (uuid.uuid4().hex * 4)[:length]


@pytest.mark.parametrize("length", [PROJECT_TITLE_MIN_CHARS, PROJECT_TITLE_MAX_CHARS])
def test_label_studio_takes_a_title_at_the_limit(real_gateway, length: int) -> None:  # type: ignore[no-untyped-def]
    project_id = real_gateway.create_project(title=_title(length), label_config=CONFIG, maximum_annotations=1)
    real_gateway.delete_project(project_id=project_id)


@pytest.mark.parametrize("length", [PROJECT_TITLE_MIN_CHARS - 1, PROJECT_TITLE_MAX_CHARS + 1])
def test_label_studio_refuses_a_title_outside_the_limits(real_gateway, length: int) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(LabelStudioError):
        project_id = real_gateway.create_project(
            title=_title(length), label_config=CONFIG, maximum_annotations=1
        )
        real_gateway.delete_project(project_id=project_id)
