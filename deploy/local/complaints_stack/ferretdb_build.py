"""FerretDB 1.24 (SQLite backend) built from its Go module, with the local fixes applied.

The fixes (docs/adr/0004) live in deploy/local/ferretdb/ as real Go: `patches/*.patch` (unified
diffs of upstream files, applied with `patch --fuzz=0`, so a changed upstream stops the build) and
`_overlay/` (whole Go files added to the module, with their tests). They are applied to a copy of
the module from the Go module cache, and the binary is built through a `replace` directive. Fixes
to FerretDB's dependencies live in `deps/<module path>/` (patches of single files and added Go
files, docs/adr/0036), applied the same way to copies of those modules. Nothing downloaded is
committed. `check()` runs gofmt, `go vet` and `go test` over the main and over the
patched packages (`make lint`).
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

from complaints_stack.base import HERE, STATE, log, run

MODULE = "github.com/FerretDB/FerretDB"
SOURCE = HERE / "ferretdb"
PATCHES = SOURCE / "patches"
OVERLAY = SOURCE / "_overlay"  # leading "_": the Go tool leaves it out of our own module
DEPS = SOURCE / "deps"  # no Go files at its top: `go build .` does not look into it
BUILD = STATE / "build"
COPY = BUILD / "ferretdb-module"
# The upstream packages the patches and the overlay touch: what `check()` vets and tests.
PATCHED_PACKAGES = (
    "./ferretdb/",
    "./internal/backends/sqlite/",
    "./internal/backends/sqlite/metadata/",
    "./internal/backends/sqlite/metadata/pool/",
    "./internal/clientconn/",
    "./internal/handler/",
    "./internal/handler/sjson/",
    "./internal/util/fsql/",
    "./internal/util/localwrite/",
)
GO_ENV = dict(os.environ, CGO_ENABLED="0", GOFLAGS="-mod=mod")


def ferretdb_binary() -> Path:
    """The built server."""
    return STATE / "bin" / "ferretdb"


def _sources() -> list[Path]:
    """Every file the build depends on, in a stable order."""
    files = [p for p in SOURCE.rglob("*") if p.is_file()]
    return sorted(files, key=lambda p: p.relative_to(SOURCE).as_posix())


def _fingerprint() -> str:
    return "".join(f"{p.relative_to(SOURCE).as_posix()}\0{p.read_text()}\0" for p in _sources())


def install_ferretdb() -> None:
    """Build FerretDB through our small embedding main, unless the sources are unchanged."""
    stamp = STATE / "bin" / ".ferretdb.src"
    fingerprint = _fingerprint()
    if ferretdb_binary().exists() and stamp.exists() and stamp.read_text() == fingerprint:
        return
    log("building FerretDB 1.24 from its Go module (first run only, ~1-3 min)…")
    ferretdb_binary().parent.mkdir(parents=True, exist_ok=True)
    modfile = patched_module()
    cmd = ["go", "build", "-trimpath", f"-modfile={modfile}", "-o", str(ferretdb_binary()), "."]
    run(cmd, cwd=SOURCE, env=GO_ENV)
    stamp.write_text(fingerprint)
    log("FerretDB built")


def _upstream() -> Path:
    """The pristine FerretDB module in the Go module cache (downloaded if missing)."""
    run(["go", "mod", "download", MODULE], cwd=SOURCE, env=GO_ENV)
    listed = subprocess.run(
        ["go", "list", "-m", "-f", "{{.Dir}}", MODULE],
        cwd=SOURCE,
        env=GO_ENV,
        check=True,
        capture_output=True,
        text=True,
    )
    return Path(listed.stdout.strip())


def _version() -> str:
    """The FerretDB version our go.mod requires (v1.24.0)."""
    for line in (SOURCE / "go.mod").read_text().splitlines():
        words = line.split()
        if words[:2] == ["require", MODULE]:
            return words[2]
    raise SystemExit(f"[stack] {SOURCE / 'go.mod'} does not require {MODULE}")


def patched_module() -> Path:
    """A fresh copy of the module with the patches and the overlay; returns a go.mod using it."""
    upstream = _upstream()
    if COPY.exists():
        for path in [COPY, *COPY.rglob("*")]:
            path.chmod(0o755 if path.is_dir() else 0o644)
        shutil.rmtree(COPY)
    shutil.copytree(upstream, COPY, copy_function=shutil.copyfile)
    for path in [COPY, *COPY.rglob("*")]:
        path.chmod(0o755 if path.is_dir() else 0o644)
    for patch in sorted(PATCHES.glob("*.patch")):
        _apply(patch, COPY, "FerretDB")
    for added in sorted(p for p in OVERLAY.rglob("*.go")):
        target = COPY / added.relative_to(OVERLAY)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(added, target)
    # The version upstream's `task gen-version` writes; its tests panic without it.
    (COPY / "build" / "version" / "version.txt").write_text(f"{_version()}\n")
    modfile = BUILD / "go.mod"
    modfile.write_text((SOURCE / "go.mod").read_text() + f"\nreplace {MODULE} => {COPY}\n")
    shutil.copyfile(SOURCE / "go.sum", BUILD / "go.sum")
    patch_dependencies(modfile)
    return modfile


def _apply(patch: Path, tree: Path, name: str) -> None:
    """Apply one unified diff to a copied module, exactly (`--fuzz=0`): a changed upstream
    stops the build with the patch's name and `patch`'s own report."""
    for changed in _patched_files(patch):
        target = tree / changed
        if target.exists():
            target.chmod(0o644)  # module-cache copies can be read-only
    applied = subprocess.run(
        ["patch", "-p1", "--batch", "--forward", "--fuzz=0", "--no-backup-if-mismatch",
         "-d", str(tree), "-i", str(patch)],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    if applied.returncode != 0:
        raise SystemExit(f"[stack] {name} changed; {patch.name} does not apply:\n{applied.stdout}")


def _patched_files(patch: Path) -> list[str]:
    """The files a unified diff changes, relative to its module (`+++ b/<path>`)."""
    return [
        line.split()[1].removeprefix("b/")
        for line in patch.read_text().splitlines()
        if line.startswith("+++ b/")
    ]


def patch_dependencies(modfile: Path) -> None:
    """Copies of the modules in `deps/<module>/` with their patches and added Go files, used
    through `replace` directives added to `modfile` (the module cache itself stays untouched)."""
    target = BUILD / "deps"
    if target.exists():
        for path in [target, *target.rglob("*")]:
            path.chmod(0o755 if path.is_dir() else 0o644)
        shutil.rmtree(target)
    replaces = []
    for module_dir in sorted({p.parent for p in DEPS.rglob("*") if p.is_file()}):
        module = module_dir.relative_to(DEPS).as_posix()
        listed = subprocess.run(
            ["go", "list", f"-modfile={modfile}", "-m", "-f", "{{.Dir}}", module],
            cwd=SOURCE, env=GO_ENV, check=True, capture_output=True, text=True,
        )  # fmt: skip
        copy = target / module
        shutil.copytree(Path(listed.stdout.strip()), copy, copy_function=shutil.copyfile)
        for patch in sorted(module_dir.glob("*.patch")):
            _apply(patch, copy, module)
        for added in sorted(module_dir.glob("*.go")):
            shutil.copyfile(added, copy / added.name)
        replaces.append(f"replace {module} => {copy}\n")
    modfile.write_text(modfile.read_text() + "".join(replaces))


def check() -> None:
    """gofmt, `go vet` and `go test` of the main and of the patched upstream packages."""
    ours = [str(p) for p in _sources() if p.suffix == ".go"]
    unformatted = subprocess.run(
        ["gofmt", "-l", *ours], capture_output=True, text=True, check=True
    ).stdout.strip()
    if unformatted:
        raise SystemExit(f"[stack] gofmt would change:\n{unformatted}")
    modfile = patched_module()
    log("go vet + go test: the FerretDB main (and the patched dependencies it tests)…")
    run(["go", "vet", f"-modfile={modfile}", "."], cwd=SOURCE, env=GO_ENV)
    run(["go", "test", "-count=1", f"-modfile={modfile}", "."], cwd=SOURCE, env=GO_ENV)
    log("go vet + go test: the patched FerretDB packages (first run compiles their tests: slow)…")
    run(["go", "vet", *PATCHED_PACKAGES], cwd=COPY, env=GO_ENV)
    # Only our tests (named TestLocal…): upstream's need a running FerretDB and databases.
    run(["go", "test", "-count=1", "-run", "^TestLocal", *PATCHED_PACKAGES], cwd=COPY, env=GO_ENV)
    log("FerretDB patches: vet and tests pass")
