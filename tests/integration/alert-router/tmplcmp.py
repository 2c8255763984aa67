"""Run each template case of tmpl-cases.txt through amtool's and axon's
`template render` and compare output and exit status (error messages
compared without the program's own prefix).

usage: tmplcmp.py AMTOOL AXON CASES DATA
"""
import subprocess
import sys

amtool, axon, cases_file, data = sys.argv[1:5]
cases = open(cases_file, encoding="utf-8").read().split("\n----\n")
empty = "/dev/null"
bad = 0


def run(prog, prefix, text):
    p = subprocess.run([prog, "template", "render", "--template.glob=" + empty,
                        "--template.data=" + data, "--template.text=" + text],
                       capture_output=True, text=True)
    err = p.stderr.replace(prefix, "").strip()
    # amtool's version warnings are not part of the answer
    err = "\n".join(l for l in err.splitlines() if not l.startswith("Warning:"))
    return p.returncode, p.stdout, err


for i, text in enumerate(cases):
    text = text.rstrip("\n") if i == len(cases) - 1 else text
    a = run(amtool, "amtool: error: ", text)
    b = run(axon, "axon: error: ", text)
    ok = a[0] == b[0] and a[1] == b[1] and (a[0] == 0 or a[2] == b[2])
    if not ok:
        bad += 1
        print("case %d: %r" % (i, text[:120]))
        print("   amtool: rc=%d out=%r err=%r" % a)
        print("   axon:   rc=%d out=%r err=%r" % b)
print("%d cases, %d differ" % (len(cases), bad))
sys.exit(1 if bad else 0)
