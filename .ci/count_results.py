"""Counts test cases in meson's JUnit log and prints 'N passed, N failed'.

Exits non-zero when anything failed, or when meson failed without a failing
test case to show for it (a test binary that crashed before reporting).
"""
import sys
import xml.etree.ElementTree as ElementTree


def main(path: str, meson_status: int) -> int:
    passed = failed = skipped = 0
    for case in ElementTree.parse(path).getroot().iter("testcase"):
        kinds = {child.tag for child in case}
        if kinds & {"failure", "error"}:
            failed += 1
        elif "skipped" in kinds:
            skipped += 1
        else:
            passed += 1
    if meson_status != 0 and failed == 0:
        failed = 1  # meson saw a failure that no test case records
    line = f"{passed} passed, {failed} failed"
    print(line + (f", {skipped} skipped" if skipped else ""))
    return 1 if failed or passed == 0 else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], int(sys.argv[2])))
