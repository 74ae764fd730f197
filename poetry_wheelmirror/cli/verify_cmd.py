"""``wheelmirror verify [--mirror URL] NAME==VERSION [--repository O/R] [--workflow PATH]``."""

from __future__ import annotations

import argparse
import sys

from poetry_wheelmirror.cli.common import add_client_options
from poetry_wheelmirror.cli.common import add_mirror_url_option
from poetry_wheelmirror.cli.common import make_client
from poetry_wheelmirror.config import mirror_url
from poetry_wheelmirror.errors import ConfigError
from poetry_wheelmirror.errors import ProvenanceError
from poetry_wheelmirror.errors import WheelmirrorError

__all__ = ["register"]


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = sub.add_parser(
        "verify",
        help="verify the mirror wheels' provenance attestations (needs the verify extra)",
        description=(
            "Verify, offline, the Sigstore provenance attestation recorded for each wheel "
            "of NAME==VERSION (every version of NAME with --all; the whole mirror with "
            "--all and no NAME): signed by GitHub Actions for the expected repository and "
            "workflow, with a valid signature and transparency-log entry, and naming the "
            "wheel's sha256. Prints one line per wheel; exits non-zero when any fails. "
            "Needs sigstore: pip install 'poetry-wheelmirror[verify]'."
        ),
    )
    parser.add_argument("spec", nargs="?", metavar="NAME==VERSION", help="what to verify")
    parser.add_argument(
        "--all",
        action="store_true",
        help="every version of NAME (with no NAME: every package on the mirror)",
    )
    parser.add_argument(
        "--repository",
        metavar="OWNER/REPO",
        help="the GitHub repository whose workflow must have signed (default: the one a "
        "https://OWNER.github.io/REPO/ mirror URL names)",
    )
    parser.add_argument(
        "--workflow",
        metavar="PATH",
        default=None,
        help="the workflow file that must have signed (default: .github/workflows/build.yml)",
    )
    parser.add_argument(
        "--policy",
        choices=("warn", "require"),
        default="require",
        help="require (default): a wheel without an attestation fails; warn: it is "
        "reported but does not fail (a failed verification always fails)",
    )
    parser.add_argument("--json", action="store_true", help="print the results as JSON")
    add_mirror_url_option(parser)
    add_client_options(parser)
    parser.set_defaults(handler=_run)


def _targets(args: argparse.Namespace) -> tuple[str | None, str | None]:
    """(name or None for every package, version or None for every version)."""
    spec = (args.spec or "").strip()
    if not spec:
        if not args.all:
            msg = "name NAME==VERSION, or use --all"
            raise ConfigError(msg)
        return None, None
    name, sep, version = spec.partition("==")
    if not name.strip() or (sep and not version.strip()):
        msg = f"{spec!r} is not NAME==VERSION"
        raise ConfigError(msg)
    if not sep and not args.all:
        msg = f"{spec!r}: give a version (NAME==VERSION) or --all"
        raise ConfigError(msg)
    return name.strip(), (version.strip() or None) if sep else None


def _run(args: argparse.Namespace) -> int:
    from packaging.utils import canonicalize_name

    from poetry_wheelmirror.mirror_client import MirrorReader
    from poetry_wheelmirror.provenance import fetch_bundle
    from poetry_wheelmirror.provenance import require_sigstore
    from poetry_wheelmirror.provenance import verify_recorded
    from poetry_wheelmirror.provenance_policy import DEFAULT_WORKFLOW
    from poetry_wheelmirror.provenance_policy import Expected
    from poetry_wheelmirror.provenance_policy import repository_from_mirror_url

    name, version = _targets(args)
    base = mirror_url(args.mirror)
    repository = args.repository or repository_from_mirror_url(base)
    if not repository:
        msg = f"cannot tell which repository must have signed {base}'s wheels: use --repository"
        raise ConfigError(msg)
    expected = Expected.of(repository, args.workflow or DEFAULT_WORKFLOW)
    require_sigstore()
    reader = MirrorReader(base, make_client(args))
    names = [canonicalize_name(name)] if name else sorted(reader.root().packages)
    counts = {"verified": 0, "failed": 0, "unattested": 0}
    rows: list[dict[str, str]] = []

    def show(status: str, filename: str, detail: str) -> None:
        rows.append({"status": status, "filename": filename, "detail": detail})
        if not args.json:
            print(f"{status:<10} {filename}: {detail}")

    for pkg in names:
        doc = reader.package(pkg)
        if doc is None:
            msg = f"the mirror does not carry {pkg}"
            raise ConfigError(msg)
        if version is not None:
            entry = doc.entry_for(version)
            if entry is None:
                msg = f"the mirror has no build of {pkg} {version}"
                raise ConfigError(msg)
            entries = [entry]
        else:
            entries = [doc.versions[k] for k in sorted(doc.versions)]
        for entry in entries:
            for wheel in sorted(entry.wheels, key=lambda w: w.filename):
                if wheel.provenance is None:
                    counts["unattested"] += 1
                    word = "MISSING" if args.policy == "require" else "UNVERIFIED"
                    show(word, wheel.filename, "no provenance attestation is recorded")
                    continue
                try:
                    bundle = fetch_bundle(reader, pkg, wheel)
                    verified = verify_recorded(bundle, wheel, expected)
                except WheelmirrorError as e:
                    counts["failed"] += 1
                    show("FAILED", wheel.filename, str(e))
                    continue
                counts["verified"] += 1
                show("OK", wheel.filename, f"signed by {verified.build_config_uri}")
    total = sum(counts.values())
    if args.json:
        import json

        signer = f"https://github.com/{expected.repository}/{expected.workflow}"
        print(json.dumps({"wheels": rows, "counts": counts, "expected_signer": signer}, indent=2))
    print(
        f"{total} wheel(s): {counts['verified']} verified, {counts['failed']} failed, "
        f"{counts['unattested']} without an attestation (expected signer: "
        f"https://github.com/{expected.repository}/{expected.workflow})",
        file=sys.stderr,
    )
    failed = counts["failed"] or (args.policy == "require" and counts["unattested"])
    if total == 0:
        print("wheelmirror: error: no wheels to verify", file=sys.stderr)
        return ProvenanceError.exit_code
    return ProvenanceError.exit_code if failed else 0
