from pathlib import Path, PurePosixPath

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db.models import QuerySet

from workbench.errors import NotFound
from workbench.projects.selectors import project_get
from workbench.releases.models import Release


def releases_of(*, user: AbstractBaseUser | AnonymousUser, project_id: int) -> QuerySet[Release]:
    """A project's releases, newest first; someone else's project is "not found"."""
    project = project_get(user=user, project_id=project_id)
    return Release.objects.filter(project=project).order_by("-version")


def release_get(*, user: AbstractBaseUser | AnonymousUser, project_id: int, version: int) -> Release:
    release = releases_of(user=user, project_id=project_id).filter(version=version).first()
    if release is None:
        raise NotFound(f"Project {project_id} has no release {version}.")
    return release


def release_file(*, release: Release, name: str) -> tuple[Path, str]:
    """The path and sha256 of one file of a published release, by its manifest path.

    Only names the manifest lists are served (the manifest itself too), so no request can
    reach outside the release folder."""
    if release.status != Release.Status.PUBLISHED or not release.manifest:
        raise NotFound(f"Release {release.version} is {release.status}; it has no files yet.")
    folder = Path(settings.RELEASES_DIR) / release.folder
    if name == "manifest.json":
        return folder / name, release.manifest_sha256
    for entry in release.manifest["files"]:
        if entry["path"] == name:
            return folder.joinpath(*PurePosixPath(name).parts), str(entry["sha256"])
    listed = ", ".join(["manifest.json", *(e["path"] for e in release.manifest["files"])])
    raise NotFound(f"Release {release.version} has no file {name!r}; its files: {listed}.")


def release_datasheet(*, release: Release) -> str | None:
    if release.status != Release.Status.PUBLISHED:
        return None
    path, _ = release_file(release=release, name="DATASHEET.md")
    return path.read_text(encoding="utf-8")
