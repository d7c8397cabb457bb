"""Checks of the alert rules and the runbook links, for dev/check-deploy.

  alerts    every alert has a runbook_url naming a file under docs/runbooks/
            (and, with #anchor, a heading of that page), and
            ops/prometheus/alerts.test.yml expects it to fire in one case and
            to stay quiet in another (promtool itself runs the cases)
  links     every relative link in README.md, docs/ and the runbooks, and
            every docs/runbooks/... path named in code and ops files,
            resolves to a file

Usage: python3 alert_checks.py REPO_ROOT alerts|links
"""

import pathlib
import re
import subprocess
import sys

import yaml

ROOT = pathlib.Path(sys.argv[1])
problems = []


def anchors(page):
    """GitHub's anchors of a markdown page's headings."""
    found = set()
    for line in page.read_text().splitlines():
        heading = re.match(r"#+\s+(.*)", line)
        if heading:
            text = heading.group(1).strip().lower()
            text = re.sub(r"[^\w\- ]", "", text)
            found.add(text.replace(" ", "-"))
    return found


def resolves(base, target):
    """Whether `target` (path#anchor) from the file `base` names a file and heading."""
    path, _, anchor = target.partition("#")
    page = (base.parent / path).resolve() if path else base
    if not page.exists():
        return False
    return not anchor or page.suffix != ".md" or anchor in anchors(page)


def check_alerts():
    rules = yaml.safe_load((ROOT / "ops/prometheus/alerts.yml").read_text())
    tests = yaml.safe_load((ROOT / "ops/prometheus/alerts.test.yml").read_text())
    firing, quiet = set(), set()
    for case in tests["tests"]:
        for check in case.get("alert_rule_test", []):
            (firing if check.get("exp_alerts") else quiet).add(check["alertname"])
    alerts = [r for g in rules["groups"] for r in g["rules"] if "alert" in r]
    for rule in alerts:
        name = rule["alert"]
        url = rule.get("annotations", {}).get("runbook_url", "")
        if not url.startswith("docs/runbooks/"):
            problems.append(f"{name}: runbook_url {url!r} is not a page under docs/runbooks/")
        elif not resolves(ROOT / "README.md", url):
            problems.append(f"{name}: runbook_url {url} does not resolve to a file and heading")
        if name not in firing:
            problems.append(f"{name}: no case in alerts.test.yml expects it to fire")
        if name not in quiet:
            problems.append(f"{name}: no case in alerts.test.yml expects it to stay quiet")
    if not problems:
        print(f"    {len(alerts)} alerts: each has a runbook page and a firing and a quiet test")


def check_links():
    files = subprocess.check_output(["git", "-C", str(ROOT), "ls-files"], text=True).split()
    checked = 0
    for name in files:
        path = ROOT / name
        if name.endswith(".md") and (name == "README.md" or name.startswith("docs/")):
            text = re.sub(r"```.*?```", "", path.read_text(), flags=re.S)
            for target in re.findall(r"\]\(([^)\s]+)\)", text):
                if re.match(r"[a-z]+:", target):
                    continue
                checked += 1
                if not resolves(path, target):
                    problems.append(f"{name}: link {target} does not resolve")
        if name.startswith(("ops/", "tools/", "services/", "helm/", "docs/")) or name == "README.md":
            if path.suffix not in (".rs", ".yml", ".yaml", ".md", ".txt", ".json"):
                continue
            for target in re.findall(r"docs/runbooks/[A-Za-z0-9_.\-]+\.md(?:#[a-z0-9_\-]+)?", path.read_text()):
                checked += 1
                if not resolves(ROOT / "README.md", target):
                    problems.append(f"{name}: {target} does not resolve")
    if not problems:
        print(f"    {checked} links and runbook paths resolve")


{"alerts": check_alerts, "links": check_links}[sys.argv[2]]()
for problem in problems:
    print(f"    {problem}", file=sys.stderr)
sys.exit(1 if problems else 0)
