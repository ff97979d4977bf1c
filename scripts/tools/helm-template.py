"""`helm template` for the tests, on Helm's own rendering engine.

No helm binary can be installed on the test machines (no Debian package, no reachable release
download), but PyPI has helm-python-sdk: Helm v4's Go SDK (chart loading, values coalescing,
the template engine with Sprig) behind a C ABI. scripts/setup/65-helm.sh installs it in a venv
and puts this file on the tests' PATH as `helm`. Only the CLI is ours, and only what Palisade
calls: `helm template NAME CHART [--values|-f FILE]... [--namespace|-n NS]`. The output is
framed as helm's is: each non-empty manifest as `---`, `# Source: CHART/templates/FILE`, the
text; NOTES.txt and partials are left out. Anything else is refused with exit status 1.
"""

import sys

from helm_python import values_from_yaml
from helm_python.chart import Chart


def merge(base, overlay):
    """Values files merged left to right, maps deeply, as `helm --values` does."""
    for key, value in overlay.items():
        if isinstance(value, dict) and isinstance(base.get(key), dict):
            merge(base[key], value)
        else:
            base[key] = value
    return base


def main(argv):
    if not argv or argv[0] != "template":
        sys.exit(f"helm (test shim): only `helm template` is supported, not {argv!r}")
    positional, values, namespace = [], {}, "default"
    args = iter(argv[1:])
    for arg in args:
        if arg in ("--values", "-f"):
            with open(next(args), encoding="utf-8") as f:
                merge(values, values_from_yaml(f.read()) or {})
        elif arg in ("--namespace", "-n"):
            namespace = next(args)
        elif arg.startswith("-"):
            sys.exit(f"helm (test shim): unsupported flag {arg}")
        else:
            positional.append(arg)
    if len(positional) != 2:
        sys.exit(f"helm (test shim): expected NAME CHART, got {positional!r}")
    name, chart = positional
    try:
        rendered = Chart.load(chart).render(values, name=name, namespace=namespace)
    except Exception as e:  # the SDK's errors carry Helm's own message
        sys.exit(f"Error: {e}")
    for path in sorted(rendered):
        text = rendered[path]
        if path.endswith("NOTES.txt") or not text.strip():
            continue
        sys.stdout.write(f"---\n# Source: {path}\n{text.rstrip()}\n")


if __name__ == "__main__":
    main(sys.argv[1:])
