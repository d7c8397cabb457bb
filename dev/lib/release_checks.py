"""Checks dev/check-deploy runs on the release path and the Kafka version.

  ci-gating     images are built only from a commit whose CI passed, and
                deployed only after that build: images.yml starts on nothing
                but a successful `ci` run of a push, builds that run's commit,
                and calls deploy.yml; deploy.yml has no trigger of its own
                except a manual dispatch.
  kafka         one Kafka minor everywhere: the local broker's pom, CI's and
                docker-compose's apache/kafka image, terraform's MSK default.

Usage: python3 release_checks.py REPO_ROOT
Exits non-zero naming each disagreement.
"""

import pathlib
import re
import sys

import yaml

ROOT = pathlib.Path(sys.argv[1])
problems = []


def load(path):
    # PyYAML reads a bare `on:` key as the boolean True.
    data = yaml.safe_load((ROOT / path).read_text())
    data["on"] = data.pop(True, data.get("on"))
    return data


def check_ci_gating():
    ci = load(".github/workflows/ci.yml")
    images = load(".github/workflows/images.yml")
    deploy = load(".github/workflows/deploy.yml")
    if "push" not in ci["on"]:
        problems.append("ci.yml must run on push, or nothing gates the images")
    triggers = images["on"]
    if set(triggers) != {"workflow_run"}:
        problems.append(f"images.yml may start only on a ci run, not on {sorted(triggers)}")
    else:
        run = triggers["workflow_run"]
        if run.get("workflows") != ["ci"] or run.get("types") != ["completed"]:
            problems.append("images.yml must follow completed runs of the ci workflow")
    build = images["jobs"]["build"]
    condition = build.get("if", "")
    for needed in ("workflow_run.conclusion == 'success'", "workflow_run.event == 'push'"):
        if needed not in condition:
            problems.append(f"images.yml's build job must require {needed}")
    checkout = next(
        (s for s in build["steps"] if str(s.get("uses", "")).startswith("actions/checkout")), {}
    )
    if checkout.get("with", {}).get("ref") != "${{ github.event.workflow_run.head_sha }}":
        problems.append("images.yml must build the commit the ci run tested (head_sha)")
    callers = [
        name
        for name, job in images["jobs"].items()
        if job.get("uses") == "./.github/workflows/deploy.yml" and "build" in job.get("needs", [])
    ]
    if not callers:
        problems.append("images.yml must call deploy.yml after its build job")
    if set(deploy["on"]) - {"workflow_call", "workflow_dispatch"}:
        problems.append(f"deploy.yml must not start on its own: {sorted(deploy['on'])}")
    if not problems:
        print("    images and deploys follow only a passed ci run of the same commit")


def minor(version):
    return ".".join(version.split(".")[:2])


def check_kafka():
    pom = (ROOT / "dev/lib/kafka/pom.xml").read_text()
    local = re.search(r"<kafka.version>([^<]+)</kafka.version>", pom).group(1)
    found = {"dev/lib/kafka/pom.xml": local}
    for path in ("docker-compose.yml", ".github/workflows/ci.yml"):
        for image in re.findall(r"image: apache/kafka:(\S+)", (ROOT / path).read_text()):
            found[path] = image
    for path in ("terraform/modules/msk/variables.tf", "terraform/modules/stack/variables.tf"):
        text = (ROOT / path).read_text()
        block = re.search(r'variable "kafka_version" \{.*?default\s*=\s*"([^"]+)"', text, re.S)
        found[path] = block.group(1)
    minors = {minor(v) for v in found.values()}
    if len(minors) != 1:
        problems.append("Kafka versions disagree: " + ", ".join(f"{p} {v}" for p, v in found.items()))
    else:
        print(f"    Kafka {minors.pop()} in " + ", ".join(found))


check = sys.argv[2] if len(sys.argv) > 2 else "all"
if check in ("all", "ci-gating"):
    check_ci_gating()
if check in ("all", "kafka"):
    check_kafka()
for problem in problems:
    print(f"    {problem}", file=sys.stderr)
sys.exit(1 if problems else 0)
