#!/usr/bin/python3
"""Checks that every Python module and R package that the tests, benchmarks and scripts load comes from a
Debian package that scripts/install-deps.sh installs, itself or as a dependency of one it lists.

A package installed by hand on a developer's machine hides a missing install step until a fresh machine
runs the tests (it happened: the R cross-check loaded jsonlite, which nothing installed). This check finds
that class of miss on any machine, because it asks dpkg which package owns each loaded module and apt which
packages the listed ones pull in, instead of asking whether the module happens to be importable here.

Usage: scripts/check-test-deps.py [ROOT]   (ROOT: the project's checkout, default the parent of scripts/)
Exit 0 when every dependency is covered, 1 with one line per miss (file:line, module, package) otherwise.
"""

import importlib.util
import os
import re
import subprocess
import sys

ROOT = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), ".."))
# Where code that a test or benchmark runs lives; Python is also embedded in shell scripts (heredocs).
SCAN_DIRS = ["tests", "examples/tests", "bench", "scripts", "python"]
# Modules of this project itself, never a Debian package.
LOCAL_MODULES = {"selflearn"}

PY_IMPORT = re.compile(r"^\s*(?:import\s+([\w., ]+?)(?:\s+as\s+\w+)?\s*$|from\s+([\w.]+)\s+import\s)")
R_LIBRARY = re.compile(r"\b(?:library|require|requireNamespace)\(\s*[\"']?([A-Za-z][\w.]*)[\"']?")


def sources():
    for top in SCAN_DIRS:
        for folder, _, files in os.walk(os.path.join(ROOT, top)):
            if "/fuzz/corpus" in folder or "/data" in folder:
                continue
            for name in sorted(files):
                if name.endswith((".py", ".sh", ".R")):
                    yield os.path.join(folder, name)


def python_modules(path, text):
    local = {os.path.splitext(n)[0] for n in os.listdir(os.path.dirname(path)) if n.endswith(".py")}
    for number, line in enumerate(text.splitlines(), 1):
        m = PY_IMPORT.match(line)
        if not m:
            continue
        names = m.group(1).split(",") if m.group(1) else [m.group(2)]
        for name in names:
            top = name.strip().split(" as ")[0].strip().split(".")[0]
            if not top or top.startswith("_") and top != "__future__":
                continue
            if top in sys.stdlib_module_names or top in LOCAL_MODULES or top in local or top == "__future__":
                continue
            yield number, top


def r_packages(text):
    base = {"base", "stats", "utils", "methods", "graphics", "grDevices", "datasets", "tools", "parallel"}
    for number, line in enumerate(text.splitlines(), 1):
        if line.lstrip().startswith("#"):
            continue
        for m in R_LIBRARY.finditer(line):
            if m.group(1) not in base:
                yield number, m.group(1)


def owner(path):
    """The Debian package that owns an installed file, or None."""
    real = os.path.realpath(path)
    for candidate in dict.fromkeys([path, real]):
        out = subprocess.run(["dpkg", "-S", candidate], capture_output=True, text=True)
        if out.returncode == 0:
            return out.stdout.split(":")[0].strip()
    return None


def python_origin(module):
    spec = importlib.util.find_spec(module)
    if spec is None:
        return None
    if spec.origin and spec.origin not in ("built-in", "frozen"):
        return spec.origin
    locations = list(spec.submodule_search_locations or [])
    return locations[0] if locations else None


def r_origin(package):
    out = subprocess.run(["Rscript", "-e", f'cat(system.file(package="{package}"))'], capture_output=True, text=True)
    return out.stdout.strip() or None if out.returncode == 0 else None


def closure(packages):
    """The listed packages and everything they depend on (Depends and PreDepends, recursively)."""
    out = subprocess.run(["apt-cache", "depends", "--recurse", "--no-recommends", "--no-suggests", "--no-conflicts",
                          "--no-breaks", "--no-replaces", "--no-enhances", *packages],
                         capture_output=True, text=True, check=True)
    result = set(packages)
    for line in out.stdout.splitlines():
        m = re.match(r"^(?:\s*\|?(?:Pre)?Depends:\s*)?([^\s<>|][^\s]*)$", line)
        if m:
            result.add(m.group(1).split(":")[0])
    return result


def main():
    listed = subprocess.run([os.path.join(ROOT, "scripts", "install-deps.sh"), "--list"], capture_output=True,
                            text=True, check=True).stdout.split()
    covered = closure(listed)
    needs = {}  # (kind, name) -> first file:line
    for path in sources():
        with open(path, encoding="utf-8", errors="replace") as f:
            text = f.read()
        where = os.path.relpath(path, ROOT)
        if path.endswith(".R"):
            for number, name in r_packages(text):
                needs.setdefault(("R", name), f"{where}:{number}")
        else:
            for number, name in python_modules(path, text):
                needs.setdefault(("python", name), f"{where}:{number}")
    misses = []
    for (kind, name), where in sorted(needs.items(), key=lambda kv: kv[1]):
        origin = python_origin(name) if kind == "python" else r_origin(name)
        if origin is None:
            misses.append(f"{where}: {kind} module '{name}' is not installed; add its Debian package to "
                          "scripts/install-deps.sh")
            continue
        package = owner(origin)
        if package is None:
            misses.append(f"{where}: {kind} module '{name}' ({origin}) comes from no Debian package; install it "
                          "from Debian in scripts/install-deps.sh")
        elif package not in covered:
            misses.append(f"{where}: {kind} module '{name}' comes from Debian package '{package}', which "
                          "scripts/install-deps.sh neither lists nor pulls in")
    for miss in misses:
        print(miss, file=sys.stderr)
    print(f"check-test-deps: {len(needs)} modules loaded by tests, benchmarks and scripts; {len(misses)} not covered "
          f"by scripts/install-deps.sh ({len(covered)} packages with dependencies)")
    return 1 if misses else 0


if __name__ == "__main__":
    sys.exit(main())
