"""Counts test cases in meson's JUnit logs and prints 'N passed, N failed'.

Usage: count_results.py [--junit LOG MESON_STATUS]... [--extra PASSED FAILED]...

A meson run that failed without a failing test case to show for it (a test
binary that crashed before reporting) counts as one failure. Exits non-zero
when anything failed or nothing ran.
"""
import sys
import xml.etree.ElementTree as ElementTree


def count_junit(path: str, meson_status: int):
    passed = failed = skipped = 0
    try:
        cases = list(ElementTree.parse(path).getroot().iter("testcase"))
    except (OSError, ElementTree.ParseError):
        cases = []
    for case in cases:
        kinds = {child.tag for child in case}
        if kinds & {"failure", "error"}:
            failed += 1
        elif "skipped" in kinds:
            skipped += 1
        else:
            passed += 1
    if meson_status != 0 and failed == 0:
        failed = 1
    return passed, failed, skipped


def main(arguments) -> int:
    passed = failed = skipped = 0
    while arguments:
        kind, first, second, arguments = arguments[0], arguments[1], arguments[2], arguments[3:]
        if kind == "--junit":
            p, f, s = count_junit(first, int(second))
        elif kind == "--extra":
            p, f, s = int(first), int(second), 0
        else:
            raise SystemExit("unknown argument " + kind)
        passed, failed, skipped = passed + p, failed + f, skipped + s
    line = f"{passed} passed, {failed} failed"
    print(line + (f", {skipped} skipped" if skipped else ""))
    return 1 if failed or passed == 0 else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
