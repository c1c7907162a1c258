#!/usr/bin/python3
"""Runs every shell command of README.md and docs/*.md verbatim, as a reader would
in a fresh clone after the quick start, and fails naming the file, line and
command of each one that exits non-zero.

Commands are the lines of ```sh blocks and, in other blocks, the lines that start
with "$ " (a command shown with its output). A block continues lines ending in
"\\". An HTML comment on the line before a block's fence marks it:

  <!-- doc-test: long -->            run only with PCNN_DOC_TEST_LONG=1 (or --long)
  <!-- doc-test: skip (reason) -->   never run (opens a window, needs a cluster, ...)

The fresh clone is a copy of the source tree's git-tracked (and untracked, not
ignored) files with build/ linked to the build directory; the quick start is
`PCNN_NO_SETUP=1 tools/demo.sh` there. Each document then runs in its own copy
(hard links), its blocks in order, so one document cannot depend on another.

Usage: test_doc_commands.py SOURCE_DIR BUILD_DIR [--long] [--keep]"""

import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

MARK = re.compile(r"<!--\s*doc-test:\s*(long|skip)\b(.*?)-->")


def blocks(path):
    """(line number, marker, commands) for every block holding commands."""
    lines = open(path, encoding="utf-8").read().split("\n")
    out, i = [], 0
    while i < len(lines):
        fence = lines[i]
        if not fence.startswith("```"):
            i += 1
            continue
        lang = fence[3:].strip()
        mark = MARK.search(lines[i - 1]) if i > 0 else None
        start, i = i + 1, i + 1
        body = []
        while i < len(lines) and not lines[i].startswith("```"):
            body.append(lines[i])
            i += 1
        i += 1
        if lang in ("sh", "bash"):
            text = "\n".join(body)
        else:  # only "$ command" lines, each with its continuations
            cmds, k = [], 0
            while k < len(body):
                if body[k].startswith("$ "):
                    cmd = body[k][2:]
                    while cmd.endswith("\\") and k + 1 < len(body):
                        k += 1
                        cmd += "\n" + body[k]
                    cmds.append(cmd)
                k += 1
            text = "\n".join(cmds)
        if text.strip():
            out.append((start, mark.group(1) if mark else None, text))
    return out


def tracked_files(source):
    try:
        names = subprocess.run(
            ["git", "-C", source, "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
            check=True, capture_output=True).stdout.decode().split("\0")
        return [n for n in names if n and os.path.isfile(os.path.join(source, n))]
    except (OSError, subprocess.CalledProcessError):  # not a git checkout: everything but outputs
        names = []
        for dirpath, dirnames, filenames in os.walk(source):
            rel = os.path.relpath(dirpath, source)
            dirnames[:] = [d for d in dirnames if not (rel == "." and (d.startswith("build")
                                                                       or d in ("out", ".git")))]
            names += [os.path.normpath(os.path.join(rel, f)) for f in filenames]
        return names


def main():
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    if len(args) != 2:
        print(__doc__.split("\n\n")[-1], file=sys.stderr)
        return 2
    source, build = (os.path.abspath(a) for a in args)
    run_long = "--long" in sys.argv or os.environ.get("PCNN_DOC_TEST_LONG") == "1"
    keep = "--keep" in sys.argv
    docs = ["README.md", "workloads/README.md"] + sorted(os.path.join("docs", f)
                                  for f in os.listdir(os.path.join(source, "docs"))
                                  if f.endswith(".md"))
    scratch = tempfile.mkdtemp(prefix="pcnn-doc-test-")
    failures, ran, skipped = [], 0, []
    try:
        clone = os.path.join(scratch, "clone")
        for name in tracked_files(source):
            os.makedirs(os.path.dirname(os.path.join(clone, name)), exist_ok=True)
            shutil.copy2(os.path.join(source, name), os.path.join(clone, name))
        os.symlink(build, os.path.join(clone, "build"))
        env = dict(os.environ, PCNN_NO_SETUP="1")
        quick = subprocess.run(["tools/demo.sh"], cwd=clone, env=env, capture_output=True, text=True)
        if quick.returncode != 0:
            print("the quick start (tools/demo.sh) failed:\n" + quick.stdout + quick.stderr)
            return 1
        for doc in docs:
            work = os.path.join(scratch, doc.replace("/", "_"))
            subprocess.run(["cp", "-al", clone, work], check=True)
            for line, mark, text in blocks(os.path.join(source, doc)):
                where = f"{doc}:{line}"
                if mark == "skip" or (mark == "long" and not run_long):
                    skipped.append(f"{where} ({mark})")
                    continue
                t0 = time.monotonic()
                r = subprocess.run(["bash", "-euo", "pipefail", "-c", text], cwd=work, env=env,
                                   capture_output=True, text=True)
                ran += 1
                print(f"{where}: exit {r.returncode} in {time.monotonic() - t0:.1f} s", flush=True)
                if r.returncode != 0:
                    tail = "\n".join((r.stdout + r.stderr).strip().split("\n")[-15:])
                    failures.append(f"{where}: exit status {r.returncode}\n{text}\n--- output:\n{tail}")
    finally:
        if keep:
            print(f"kept {scratch}")
        else:
            shutil.rmtree(scratch, ignore_errors=True)
    print(f"{ran} blocks ran, {len(skipped)} not run: {', '.join(skipped) or 'none'}")
    for f in failures:
        print("\nFAILED " + f)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
