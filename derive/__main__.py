"""``python -m optiforge.derive [NAME…] [--report FILE.md]``"""
import argparse
import sys

from . import verify

parser = argparse.ArgumentParser(prog="python -m optiforge.derive", description="Check the derivation catalogue.")
parser.add_argument("names", nargs="*", help="claim names, topics (e.g. adam) or tags; all when omitted")
parser.add_argument("--report", metavar="FILE.md", help="write a Markdown report with every step in LaTeX")
args = parser.parse_args()
sys.exit(verify(args.names or None, report=args.report))
