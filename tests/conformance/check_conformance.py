"""Check a sandbox request log against the vendor API documents.

    python tests/conformance/check_conformance.py --log FILE --api-dir DIR [--require-vendor falcon ...]

Exit codes:
  0  every vendor request conforms to its document
  1  at least one violation
  2  the log cannot be read, holds no vendor request at all, or holds none for a
     --require-vendor (an empty log must never pass)
  3  --api-dir does not exist: conformance is skipped outside the team's CI
"""

import argparse
import sys
from pathlib import Path

import openapi_check


def parse_args(argv):
    parser = argparse.ArgumentParser(description="Check recorded sandbox requests against the vendor OpenAPI documents.")
    parser.add_argument("--log", required=True, help="request log: {\"requests\": [...]} JSON or JSON lines")
    parser.add_argument("--api-dir", required=True, help="directory holding the vendor API documents (../shared/api)")
    parser.add_argument("--require-vendor", action="append", default=[], choices=sorted(openapi_check.VENDORS),
                        help="fail (exit 2) unless the log holds requests for this vendor; repeatable")
    parser.add_argument("--verbose", action="store_true", help="list every tolerated deviation, not only a summary")
    return parser.parse_args(argv)


def format_operations(report):
    lines = []
    for vendor in sorted({stats.vendor for stats in report.operations.values()}):
        rows = sorted((s for s in report.operations.values() if s.vendor == vendor), key=lambda s: (s.template, s.method))
        lines.append("%s: %d requests" % (vendor, sum(s.requests for s in rows)))
        for stats in rows:
            notes = []
            if stats.violations:
                notes.append("%d violations" % stats.violations)
            if stats.tolerated:
                notes.append("%d tolerated" % stats.tolerated)
            suffix = "  (%s)" % ", ".join(notes) if notes else ""
            lines.append("  %5d  %-6s %-75s %s%s" % (stats.requests, stats.method, stats.template, stats.operation, suffix))
    return lines


def format_tolerated(report, deviations, verbose):
    if not report.tolerated:
        return []
    lines = ["", "Tolerated known spec deviations: %d findings" % len(report.tolerated)]
    by_deviation = {}
    for item in report.tolerated:
        by_deviation.setdefault(item.deviation, []).append(item)
    for name in sorted(by_deviation, key=lambda n: [int(p[1:]) for p in n.split("+")]):
        items = by_deviation[name]
        index = int(name.split("+")[0][1:]) - 1
        lines.append("  %s x%d (%s %s): %s" % (name, len(items), deviations[index].vendor, deviations[index].operation, deviations[index].reason))
        lines += ["      " + str(item) for item in (items if verbose else items[:1])]
    return lines


def format_violations(report):
    if not report.violations:
        return []
    lines = ["", "Violations: %d" % len(report.violations)]
    lines += ["  " + str(violation) for violation in report.violations]
    return lines


def coverage_problems(report, required):
    problems = []
    if not report.vendor_requests():
        problems.append("the log holds no vendor requests: nothing was checked")
    problems += ["the log holds no %s requests (--require-vendor %s)" % (vendor, vendor) for vendor in required if not report.requests_for(vendor)]
    return problems


def main(argv=None):
    args = parse_args(sys.argv[1:] if argv is None else argv)
    api_dir = Path(args.api_dir)
    if not api_dir.is_dir():
        print("SKIPPED: %s (looked for %s)" % (openapi_check.SKIP_MESSAGE, api_dir), file=sys.stderr)
        return 3
    try:
        entries = openapi_check.load_log(args.log)
    except (OSError, ValueError) as error:
        print("ERROR: cannot read the request log %s: %s" % (args.log, error), file=sys.stderr)
        return 2
    try:
        checker = openapi_check.Checker(api_dir)
    except (OSError, ValueError) as error:
        print("ERROR: cannot load the API documents from %s: %s" % (api_dir, error), file=sys.stderr)
        return 2
    report = checker.check_log(entries)

    lines = ["Conformance of %s against %s" % (args.log, api_dir),
             "%d entries: %d vendor requests checked, %d sandbox control requests ignored"
             % (len(entries), len(entries) - report.ignored, report.ignored), ""]
    lines += format_operations(report)
    lines += format_tolerated(report, checker.deviations, args.verbose)
    lines += format_violations(report)
    problems = coverage_problems(report, args.require_vendor)
    lines += [""] + ["NOT CHECKED: %s" % problem for problem in problems]
    if problems:
        verdict, code = "FAIL (incomplete log)", 2
    elif report.violations:
        verdict, code = "FAIL (%d violations)" % len(report.violations), 1
    else:
        verdict, code = "PASS", 0
    lines.append("RESULT: %s" % verdict)
    print("\n".join(lines))
    return code


if __name__ == "__main__":
    sys.exit(main())
