from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from pathlib import Path, PurePosixPath
from typing import Any

import httpx

_CHUNK = 1 << 20


class WorkbenchClientError(Exception):
    """The API answered with an error (its message, code and HTTP status are kept)."""

    def __init__(self, message: str, *, status: int | None = None, code: str = "") -> None:
        super().__init__(message)
        self.status = status
        self.code = code


class ChecksumMismatch(WorkbenchClientError):
    pass


ProgressFactory = Callable[[str, int, int], Any]


def _tqdm_progress(name: str, total: int, initial: int) -> Any:
    try:
        from tqdm import tqdm
    except ImportError:  # progress bars are a nicety
        return None
    return tqdm(
        total=total, initial=initial, unit="B", unit_scale=True, unit_divisor=1024, desc=name, leave=False
    )


class WorkbenchClient:
    def __init__(
        self,
        url: str,
        token: str,
        *,
        timeout: float = 60.0,
        progress: bool = True,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self._http = httpx.Client(
            base_url=url.rstrip("/"),
            headers={"Authorization": f"Token {token}"},
            timeout=timeout,
            transport=transport,
        )
        self._progress: ProgressFactory | None = _tqdm_progress if progress else None

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> WorkbenchClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- reads ----------------------------------------------------------------------

    def releases(self, project: int) -> list[dict[str, Any]]:
        return list(self._json("GET", f"/api/projects/{project}/releases/"))

    def release(self, project: int, version: int | str = "latest") -> dict[str, Any]:
        return dict(self._json("GET", f"/api/projects/{project}/releases/{self._version(project, version)}/"))

    def diff(self, project: int, old: int, new: int) -> dict[str, Any]:
        return dict(
            self._json("GET", f"/api/projects/{project}/releases/diff/", params={"from": old, "to": new})
        )

    def create_release(self, project: int, **options: Any) -> dict[str, Any]:
        return dict(self._json("POST", f"/api/projects/{project}/releases/", json=options))

    # --- pull -----------------------------------------------------------------------

    def pull(
        self, *, project: int, version: int | str = "latest", fmt: str = "parquet", out: str | Path
    ) -> Path:
        """Download one format of a published release into ``out/v<version>/`` and verify it.

        Files already there with the right sha256 are kept; partial ones resume with an HTTP
        range. Raises :class:`ChecksumMismatch` if a file (or the manifest) does not match.
        """
        detail = self.release(project, version)
        if detail["status"] != "published":
            raise WorkbenchClientError(f"release {detail['version']} is {detail['status']}, not published")
        number = detail["version"]
        folder = Path(out) / f"v{number}"
        folder.mkdir(parents=True, exist_ok=True)
        base = f"/api/projects/{project}/releases/{number}/download/"
        manifest_path = self._fetch(base, "manifest.json", detail["manifest_sha256"], folder, None)
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
        wanted = [e for e in manifest["files"] if e["format"] in (fmt, "datasheet")]
        if not any(e["format"] == fmt for e in wanted):
            formats = sorted({e["format"] for e in manifest["files"]} - {"datasheet"})
            raise WorkbenchClientError(f"release {number} has no {fmt!r} files; it has {', '.join(formats)}")
        for entry in wanted:
            self._fetch(base, entry["path"], entry["sha256"], folder, entry["bytes"])
        return folder

    def _fetch(self, base: str, name: str, sha256: str, folder: Path, size: int | None) -> Path:
        pure = PurePosixPath(name)
        if pure.is_absolute() or ".." in pure.parts:
            raise WorkbenchClientError(f"refusing unsafe path {name!r} from the manifest")
        target = folder.joinpath(*pure.parts)
        target.parent.mkdir(parents=True, exist_ok=True)
        if target.exists() and _sha256(target) == sha256:
            return target
        partial = target.with_name(target.name + ".part")
        have = partial.stat().st_size if partial.exists() else 0
        headers = {"Range": f"bytes={have}-", "If-Range": f'"{sha256}"'} if have else {}
        with self._http.stream("GET", base, params={"file": name}, headers=headers) as response:
            if response.status_code == 416:  # our partial copy is already complete (or bad)
                have = 0
            elif response.status_code not in (200, 206):
                response.read()
                raise _error(response)
            if response.status_code == 200:
                have = 0
            total = int(response.headers.get("Content-Length", "0")) + have
            bar = self._progress(name, total, have) if self._progress else None
            if response.status_code != 416:
                with partial.open("ab" if have else "wb") as handle:
                    for chunk in response.iter_bytes(_CHUNK):
                        handle.write(chunk)
                        if bar is not None:
                            bar.update(len(chunk))
            if bar is not None:
                bar.close()
        actual = _sha256(partial) if partial.exists() else ""
        if actual != sha256:
            partial.unlink(missing_ok=True)  # start over next time
            raise ChecksumMismatch(f"{name}: sha256 {actual or '(nothing downloaded)'}, expected {sha256}")
        if size is not None and partial.stat().st_size != size:
            raise ChecksumMismatch(f"{name}: {partial.stat().st_size} bytes, expected {size}")
        partial.replace(target)
        return target

    # --- plumbing -------------------------------------------------------------------

    def _version(self, project: int, version: int | str) -> int:
        if str(version) != "latest":
            return int(version)
        published = [int(r["version"]) for r in self.releases(project) if r["status"] == "published"]
        if not published:
            raise WorkbenchClientError(f"project {project} has no published release yet")
        return max(published)

    def _json(self, method: str, path: str, **kwargs: Any) -> Any:
        response = self._http.request(method, path, **kwargs)
        if response.status_code >= 400:
            raise _error(response)
        return response.json()


def _error(response: httpx.Response) -> WorkbenchClientError:
    try:
        body = response.json()
        message, code = str(body.get("message", body)), str(body.get("code", ""))
    except (ValueError, AttributeError):
        message, code = response.text[:500], ""
    return WorkbenchClientError(
        f"HTTP {response.status_code}: {message}", status=response.status_code, code=code
    )


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()
