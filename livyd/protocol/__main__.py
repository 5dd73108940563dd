"""``python -m livyd.protocol [--check] [--root DIR]``: write (or check) the generated artifacts."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from livyd.protocol._generate import render_all


def main(argv: list[str] | None = None) -> int:
    """Write every generated file under *root*; with ``--check`` only report differences."""
    parser = argparse.ArgumentParser(prog="python -m livyd.protocol", description=__doc__)
    parser.add_argument("--check", action="store_true", help="exit 1 if a generated file is stale")
    parser.add_argument("--root", type=Path, default=Path(__file__).resolve().parents[2])
    args = parser.parse_args(argv)
    root: Path = args.root
    files = render_all()
    stale = []
    for rel, content in files.items():
        path = root / rel
        current = path.read_text(encoding="utf-8") if path.exists() else None
        if current != content:
            stale.append(rel)
            if not args.check:
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_text(content, encoding="utf-8")
    examples = root / "protocol" / "examples"
    if examples.is_dir():
        for extra in sorted(examples.glob("*.json")):
            rel = str(extra.relative_to(root))
            if rel not in files:
                stale.append(rel)
                if not args.check:
                    extra.unlink()
    for rel in stale:
        sys.stderr.write(f"{'stale' if args.check else 'wrote'}: {rel}\n")
    return 1 if (args.check and stale) else 0


if __name__ == "__main__":
    raise SystemExit(main())
