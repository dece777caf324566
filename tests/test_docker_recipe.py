"""docker/Dockerfile replayed without Docker: freqtrade's image is an interpreter with freqtrade
installed, a non-root user, ``pip install --user`` of our wheel, user_data mounted elsewhere.

What the real image is (freqtradeorg/freqtrade, Python 3.13): a system Python (``/usr/local``)
whose user ``ftuser`` (uid 1000) got freqtrade and its dependencies with ``pip install --user``
(``/home/ftuser/.local``, on ``PATH``), ``WORKDIR /freqtrade``, ``ENTRYPOINT freqtrade``, and
``user_data`` a volume at ``/freqtrade/user_data``. Our Dockerfile adds one line as ftuser:
``pip install --user --no-cache-dir <wheel>``.

How it is mimicked here (``test_replay_of_the_docker_recipe``), and why:

* The image interpreter is a venv made from ``sys.executable`` with
  ``--system-site-packages`` whose site-packages holds links to exactly freqtrade[hyperopt]'s
  distributions and their dependency closure (read from ``importlib.metadata``, markers
  evaluated) plus pip, taken from the environment running this test (CI: a venv with
  freqtrade 2026.9 on Python 3.13 installed first). Not ``sys.executable``'s own environment:
  there the wheel and its own dependencies (yfinance, exchange_calendars, matplotlib) are
  already installed, so pip would install nothing and prove nothing. Not a plain venv: pip
  refuses ``--user`` in a venv without system site-packages (the user site is invisible there);
  with ``--system-site-packages`` Python enables the user site, as the image's system Python
  does. Not ``PYTHONPATH``: it would put freqtrade ahead of the user site, where the image has
  them side by side. The one difference left: freqtrade sits in the interpreter's
  site-packages, not in the user site as in the image; pip's answer is the same (the
  requirement ``freqtrade>=2025.12,<2026.10`` is satisfied by an installed freqtrade, which pip
  keeps), and the links cannot be altered by the non-root user (the files are not theirs).
  ``freqtrade`` is a console script of that interpreter (``freqtrade.main:main``, as pip
  writes it).
* The user is ``r2kftuser`` (created with ``useradd`` if missing, no home in passwd), commands
  run with ``runuser -u``. Its ``HOME`` is a temporary folder; the Dockerfile's ``RUN pip``
  line, read from the Dockerfile, runs there with ``HOME`` writable (the image build), the
  wheel at the path the ``COPY`` puts it. Then ``HOME`` is made read-only (owned by root) for
  the runs: ``freqtrade list-strategies`` and ``russell-regime offline backtesting`` (the
  entry point pip installed into ``~/.local/bin``) with user_data in another folder owned by
  the user, the index from the shared RUT.csv through ``FREQTRADE__RUSSELL_REGIME__*``.
* Once more with ``HOME`` unset, as a uid with no passwd entry (``setpriv``; ``Path.home()``
  raises there) and ``PYTHONUSERBASE`` pointing at the user site (otherwise Python could not
  find it without a home).
* Where the interpreter or the environment lies below a folder other users cannot enter (on
  this machine pyenv lives in ``/root``, mode 700), each command runs in a private mount
  namespace (``unshare -m``) where that folder is a world-readable tmpfs with only the needed
  subfolders bound back in; nothing outside the namespace changes.

Runs where ``sys.executable`` is Python 3.13 with freqtrade installed, as root (useradd,
runuser) on Linux; skips with the reason otherwise, unless ``R2K_REQUIRE_DOCKER_REPLAY=1``
(CI's Python 3.13 compat venv), then it fails. pip fetches the wheel's dependencies that
freqtrade's image lacks from the package index, as the Docker build would.
"""

from __future__ import annotations

import importlib.metadata as metadata
import json
import os
import pwd
import re
import shlex
import shutil
import subprocess
import sys
import tempfile
import tomllib
import zipfile
from pathlib import Path

import pytest

from installs import REPO_ROOT, built_wheel

pytestmark = [pytest.mark.compat, pytest.mark.docker_replay]

DOCKERFILE = REPO_ROOT / "docker" / "Dockerfile"
COMPOSE = REPO_ROOT / "docker" / "docker-compose.yml"
USER = "r2kftuser"
STRATEGY = "RussellRiskOn"  # the shipped example: a RussellGateMixin strategy
TIMERANGE = "20240101-20240301"
REQUIRE = "R2K_REQUIRE_DOCKER_REPLAY"


# --- the recipe ------------------------------------------------------------------------------

def recipe(path: Path = DOCKERFILE) -> dict:
    """FROM / USER / COPY / RUN of the Dockerfile (continuation lines joined)."""
    lines, current = [], ""
    for raw in path.read_text().splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        current += line[:-1] + " " if line.endswith("\\") else line
        if not line.endswith("\\"):
            lines.append(current)
            current = ""
    out: dict = {"RUN": [], "COPY": []}
    for line in lines:
        word, _, rest = line.partition(" ")
        word = word.upper()
        if word in ("RUN", "COPY"):
            out[word].append(rest.strip())
        else:
            out[word] = rest.strip()
    return out


def test_dockerfile_installs_only_the_wheel_on_a_supported_freqtrade_image():
    """The replay's source of truth: one RUN, a pip --user install of the COPY'd wheel, on a
    freqtrade stable tag inside our supported range, as ftuser."""
    r = recipe()
    image, _, tag = r["FROM"].partition(":")
    assert image == "freqtradeorg/freqtrade"
    deps = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    (ft,) = [d for d in deps if re.match(r"freqtrade\b", d)]
    low, high = re.search(r">=([\d.]+)", ft).group(1), re.search(r"<([\d.]+)", ft).group(1)

    def version(text: str) -> tuple[int, ...]:
        return tuple(int(p) for p in text.split("."))

    assert re.fullmatch(r"\d{4}\.\d+", tag), f"not a stable release tag: {tag}"
    assert version(low) <= version(tag) < version(high), (tag, ft)
    assert r["USER"] == "ftuser"
    (copy,) = r["COPY"]
    source, dest = shlex.split(copy)[-2:]
    assert source == "dist/russell_regime-*.whl" and dest.endswith("/")
    (run,) = r["RUN"]
    argv = shlex.split(run)
    assert argv[:4] == ["pip", "install", "--user", "--no-cache-dir"]
    assert argv[4:] == [dest + Path(source).name], "the RUN installs the COPY'd wheel only"
    assert "freqtrade" not in run.replace("freqtrade/", "")  # freqtrade is the image's
    compose = COMPOSE.read_text()
    for needed in ("dockerfile: docker/Dockerfile", "context: ..",
                   ":/freqtrade/user_data", "--config /freqtrade/user_data/config.json",
                   f"--strategy {STRATEGY}"):
        assert needed in compose, needed


# --- the image -------------------------------------------------------------------------------

def _canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def freqtrade_closure(root: str = "freqtrade", extras: frozenset = frozenset({"hyperopt"})
                      ) -> dict[str, metadata.Distribution]:
    """freqtrade[hyperopt] and every distribution it needs here (markers evaluated)."""
    try:
        from packaging.requirements import Requirement
    except ImportError:  # pragma: no cover - pip always has it
        from pip._vendor.packaging.requirements import Requirement

    found: dict[str, metadata.Distribution] = {}
    done: dict[str, set] = {}
    stack = [(root, set(extras))]
    while stack:
        name, wanted = stack.pop()
        key = _canonical(name)
        if key in done and wanted <= done[key]:
            continue
        try:
            dist = metadata.distribution(name)
        except metadata.PackageNotFoundError:
            continue  # an optional dependency not installed here
        found[key] = dist
        done[key] = done.get(key, set()) | wanted
        environments = [{"extra": e} for e in (done[key] or {""})]
        for text in dist.requires or []:
            req = Requirement(text)
            if req.marker is None or any(req.marker.evaluate(env) for env in environments):
                stack.append((req.name, set(req.extras)))
    return found


def _top_level(dist: metadata.Distribution) -> set[str]:
    """The site-packages entries a distribution installed (packages, modules, .pth, its
    dist-info); scripts outside site-packages are left out."""
    tops = {p.parts[0] for p in dist.files or [] if p.parts and p.parts[0] != ".."}
    return tops or {Path(str(dist._path)).name}  # type: ignore[attr-defined]


def _site_packages(python: Path) -> Path:
    out = subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()"
                          "['purelib'])"], check=True, capture_output=True, text=True)
    return Path(out.stdout.strip())


def make_image(root: Path) -> Path:
    """The image interpreter (module docstring); returns its python."""
    image = root / "image"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", "--system-site-packages",
                    str(image)], check=True, capture_output=True, text=True, timeout=120)
    python = image / "bin" / "python"
    site = _site_packages(python)
    dists = freqtrade_closure()
    dists["pip"] = metadata.distribution("pip")  # the image's system pip
    for dist in dists.values():
        source = Path(str(dist.locate_file("")))
        for top in _top_level(dist):
            link = site / top
            if not link.exists() and (source / top).exists():
                link.symlink_to(source / top)
    (entry,) = [e for e in metadata.distribution("freqtrade").entry_points
                if e.group == "console_scripts" and e.name == "freqtrade"]
    module, _, func = entry.value.partition(":")
    script = image / "bin" / "freqtrade"
    script.write_text(f"#!{python}\nimport sys\nfrom {module} import {func}\n"
                      f"if __name__ == '__main__':\n    sys.exit({func}())\n")
    script.chmod(0o755)
    return python


# --- running as the user ---------------------------------------------------------------------

def _blocked(paths: list[Path]) -> dict[Path, set[str]]:
    """Folders on the way to ``paths`` that others cannot enter -> the children needed."""
    blocked: dict[Path, set[str]] = {}
    for path in paths:
        path = path.resolve()
        for parent, child in zip(reversed(path.parents), [*reversed(path.parents)][1:] + [path],
                                 strict=True):
            if not os.stat(parent).st_mode & 0o001:
                blocked.setdefault(parent, set()).add(child.name)
    return blocked


class Sandbox:
    """Runs commands as the non-root user, through a mount namespace when needed."""

    def __init__(self, root: Path, needed: list[Path]) -> None:
        self.root = root
        self.user = _ensure_user()
        self.pw = pwd.getpwnam(self.user)
        self.nobody_uid = _free_uid(self.pw.pw_uid)
        blocked = _blocked(needed)
        script = ["set -e"]
        for i, (folder, children) in enumerate(sorted(blocked.items(),
                                                      key=lambda kv: len(kv[0].parts))):
            keep = root / ".mounts" / str(i)
            keep.mkdir(parents=True)
            script.append(f"mount --bind {shlex.quote(str(folder))} {shlex.quote(str(keep))}")
            script.append(f"mount -t tmpfs -o mode=0755 r2k {shlex.quote(str(folder))}")
            for child in sorted(children):
                target, origin = folder / child, keep / child
                # the real path decides: keep/ is bound only inside the namespace
                make = "mkdir -p" if target.is_dir() else "touch"
                script.append(f"{make} {shlex.quote(str(target))}")
                script.append(f"mount --bind {shlex.quote(str(origin))} "
                              f"{shlex.quote(str(target))}")
        script.append('exec "$@"')
        self.prefix = (["unshare", "--mount", "--propagation", "private", "sh", "-c",
                        "\n".join(script), "sh"] if blocked else [])

    def run(self, argv: list[str], env: dict[str, str], cwd: Path, timeout: int = 900,
            passwd_less: bool = False) -> subprocess.CompletedProcess:
        if passwd_less:  # a uid without a passwd entry, the user's group
            who = ["setpriv", f"--reuid={self.nobody_uid}", f"--regid={self.pw.pw_gid}",
                   "--clear-groups", "--"]
        else:
            who = ["runuser", "-u", self.user, "--"]
        env_argv = ["env", "-i", *(f"{k}={v}" for k, v in env.items())]
        return subprocess.run([*self.prefix, *who, *env_argv, *argv], cwd=cwd,
                              capture_output=True, text=True, timeout=timeout)


def _ensure_user() -> str:
    try:
        pwd.getpwnam(USER)
    except KeyError:
        subprocess.run(["useradd", "--no-create-home", "--home-dir", "/nonexistent",
                        "--shell", "/usr/sbin/nologin", "--user-group", USER],
                       check=True, capture_output=True, text=True)
    return USER


def _free_uid(start: int) -> int:
    uid = start + 1000
    while True:
        try:
            pwd.getpwuid(uid)
        except KeyError:
            return uid
        uid += 1


def _chown_tree(path: Path, uid: int, gid: int) -> None:
    os.chown(path, uid, gid)
    for folder, dirs, files in os.walk(path):
        for name in dirs + files:
            os.chown(os.path.join(folder, name), uid, gid, follow_symlinks=False)


def ok(proc: subprocess.CompletedProcess) -> subprocess.CompletedProcess:
    assert proc.returncode == 0, (proc.args[-12:], proc.stdout[-4000:], proc.stderr[-4000:])
    return proc


def _base_env() -> dict[str, str]:
    """The machine's pip/TLS settings (how it reaches the package index), nothing of ours."""
    keep = ("PIP_", "SSL_", "REQUESTS_CA_BUNDLE", "NIX_SSL", "LANG", "LC_", "TZ")
    return {k: v for k, v in os.environ.items() if k.startswith(keep)}


def _skip_or_fail(reason: str) -> None:
    if os.environ.get(REQUIRE) == "1":
        pytest.fail(f"{REQUIRE}=1 but the Docker recipe replay cannot run: {reason}")
    pytest.skip(reason)


@pytest.fixture()
def replay_root():
    """A folder other users can enter (pytest's tmp_path is under a 0700 folder)."""
    root = Path(tempfile.mkdtemp(prefix="r2k-docker-replay-"))
    root.chmod(0o755)
    yield root
    subprocess.run(["umount", "-R", str(root / ".mounts")], capture_output=True)
    shutil.rmtree(root, ignore_errors=True)


def _pip_show(sandbox: Sandbox, python: Path, env: dict, cwd: Path) -> dict[str, str]:
    """``pip show freqtrade`` fields, less Required-by (which gains russell-regime)."""
    out = ok(sandbox.run([str(python), "-m", "pip", "show", "freqtrade"], env, cwd)).stdout
    return {key: value for key, value in (line.split(": ", 1) for line in out.splitlines()
                                          if ": " in line) if key != "Required-by"}


def _check_runs(sandbox: Sandbox, env: dict, ud: Path, workdir: Path, shared: Path,
                rr: Path, freqtrade: Path, passwd_less: bool, label: str) -> int:
    """list-strategies (no LOAD FAILED) and an offline backtest that trades; its trades."""
    listed = ok(sandbox.run([str(freqtrade), "list-strategies", "--userdir", str(ud)], env,
                            workdir, passwd_less=passwd_less))
    assert "LOAD FAILED" not in listed.stdout, (label, listed.stdout)
    row = next(line for line in listed.stdout.splitlines() if STRATEGY in line)
    assert "OK" in row, (label, row)

    results = ud / "backtest_results" / label
    results.mkdir(parents=True)
    _chown_tree(results, sandbox.nobody_uid if passwd_less else sandbox.pw.pw_uid,
                sandbox.pw.pw_gid)
    run_env = {**env, "FREQTRADE__RUSSELL_REGIME__SOURCE": "file",
               "FREQTRADE__RUSSELL_REGIME__PATH": str(shared / "index" / "RUT.csv")}
    backtest = ok(sandbox.run(
        [str(rr), "offline", "backtesting", "--config", str(ud / "config.json"),
         "--userdir", str(ud), "--strategy", STRATEGY, "--timerange", TIMERANGE,
         "--datadir", str(shared / "binance"), "--export", "trades",
         "--backtest-directory", str(results), *(["-v"] if passwd_less else [])],
        run_env, workdir, passwd_less=passwd_less))
    output = backtest.stdout + backtest.stderr
    assert "Traceback" not in output, (label, output[-4000:])
    calendar_lines = [line for line in output.splitlines()
                      if "russell_regime.data.calendars" in line]
    assert len(calendar_lines) <= 1, (label, calendar_lines)
    assert not any(" - WARNING - " in line or " - ERROR - " in line
                   for line in calendar_lines), calendar_lines
    if passwd_less:  # -v: the one debug line of the calendar fallback is there
        assert len(calendar_lines) == 1 and "DEBUG" in calendar_lines[0], calendar_lines
    from freqtrade.data.btanalysis import load_backtest_stats

    stats = load_backtest_stats(results)
    trades = stats["strategy"][STRATEGY]["total_trades"]
    assert trades > 0, (label, "no trade")
    return trades


@pytest.mark.shared_data
@pytest.mark.freqtrade_run
def test_replay_of_the_docker_recipe(replay_root, shared_data, tmp_path):
    """The Dockerfile's pip line as a non-root user on an interpreter with freqtrade: freqtrade
    is kept, and freqtrade / russell-regime then run with HOME read-only and with no HOME."""
    if sys.version_info[:2] != (3, 13):
        _skip_or_fail(f"needs Python 3.13 (freqtrade's image), this is "
                      f"{sys.version_info.major}.{sys.version_info.minor}")
    try:
        ft_version = metadata.version("freqtrade")
    except metadata.PackageNotFoundError:
        _skip_or_fail("freqtrade is not installed in this environment (the image)")
    if not sys.platform.startswith("linux") or os.geteuid() != 0:
        _skip_or_fail("needs root on Linux (useradd, runuser, setpriv, unshare)")
    for tool in ("useradd", "runuser", "setpriv", "unshare"):
        if shutil.which(tool) is None:
            _skip_or_fail(f"{tool} not found")

    root = replay_root
    wheel = built_wheel(tmp_path)
    python = make_image(root)
    sandbox = Sandbox(root, [Path(sys.base_prefix), Path(sys.prefix), shared_data, root])
    uid, gid = sandbox.pw.pw_uid, sandbox.pw.pw_gid

    home, workdir, ud, wheels = (root / "home", root / "freqtrade", root / "ud",
                                 root / "wheels")
    for folder in (home, workdir, ud / "strategies", wheels):
        folder.mkdir(parents=True)
    shutil.copy(wheel, wheels / wheel.name)  # COPY --chown=ftuser:ftuser ... /tmp/wheels/
    with zipfile.ZipFile(wheel) as zf:  # the user's bot: the shipped config and strategy
        (ud / "config.json").write_bytes(zf.read("russell_regime/resources/config.json"))
        (ud / "strategies" / f"{STRATEGY}.py").write_bytes(
            zf.read(f"russell_regime/resources/strategies/{STRATEGY}.py"))
    for folder in (home, workdir, ud, wheels):
        _chown_tree(folder, uid, gid)
    for folder, _, _ in os.walk(ud):  # group-writable: the passwd-less uid shares the group
        os.chmod(folder, 0o2775)

    path = f"{home}/.local/bin:{python.parent}:/usr/bin:/bin"
    env = {**_base_env(), "HOME": str(home), "PATH": path}
    probe = ok(sandbox.run([str(python), "-c", "import importlib.util as u; "
                            "print(u.find_spec('russell_regime'), u.find_spec('freqtrade'))"],
                           env, workdir)).stdout
    assert probe.startswith("None ") and "freqtrade" in probe, probe  # freqtrade, not ours
    before = _pip_show(sandbox, python, env, workdir)
    assert before["Version"] == ft_version

    # the Dockerfile's RUN line, the COPY's destination mapped to the wheels folder
    r = recipe()
    copy_dest = shlex.split(r["COPY"][0])[-1]
    argv = shlex.split(r["RUN"][0])
    assert argv[0] == "pip"
    argv = [str(python), "-m", "pip",
            *(str(wheels / wheel.name) if a.startswith(copy_dest) else a for a in argv[1:])]
    install = ok(sandbox.run(argv, env, workdir))
    pip_output = install.stdout + install.stderr
    collected = next((line for line in pip_output.splitlines()
                      if line.startswith("Installing collected packages:")), "")
    assert "russell" in collected, pip_output[-3000:]
    assert not re.search(r"\bfreqtrade\b", collected.split(":", 1)[1]), collected
    assert "Uninstalling freqtrade" not in pip_output
    assert _pip_show(sandbox, python, env, workdir) == before
    where = ok(sandbox.run([str(python), "-c", "import russell_regime, json; "
                            "print(json.dumps(russell_regime.__file__))"], env, workdir))
    assert Path(json.loads(where.stdout)).is_relative_to(home / ".local"), where.stdout
    rr = home / ".local" / "bin" / "russell-regime"
    assert rr.read_text().splitlines()[0] == f"#!{python}"

    # HOME read-only from here on (owned by root, as with a read-only container filesystem)
    _chown_tree(home, 0, 0)
    denied = sandbox.run(["touch", str(home / "probe")], env, workdir)
    assert denied.returncode != 0
    trades = _check_runs(sandbox, env, ud, workdir, shared_data, rr, python.parent /
                         "freqtrade", passwd_less=False, label="home_read_only")
    assert not any(home.rglob("calendar-*.npz"))

    # HOME unset, a uid with no passwd entry: Path.home() raises there
    no_home = {k: v for k, v in env.items() if k != "HOME"}
    no_home["PYTHONUSERBASE"] = str(home / ".local")
    raises = sandbox.run([str(python), "-c", "from pathlib import Path; Path.home()"], no_home,
                         workdir, passwd_less=True)
    assert raises.returncode != 0 and "RuntimeError" in raises.stderr, raises.stderr
    again = _check_runs(sandbox, no_home, ud, workdir, shared_data, rr,
                        python.parent / "freqtrade", passwd_less=True, label="home_unset")
    assert again == trades
    assert _pip_show(sandbox, python, env, workdir) == before
