"""Per-kernel SASS opcode counts of two cubins (sm_90), and their difference: the instructions of
one more copy of an unrolled loop. Reads the ELF sections .text.<kernel> directly (128-bit
instructions; the opcode is in the low bits of the first word), so it needs no cuobjdump. Only the
opcodes used to read the S-MF step are named; the others print as hex. With one cubin: each
kernel's whole count (real.cu: the run kernels, whole); --loop and one cubin: each kernel's step
loop (count.sh LOOP=1)."""
import collections
import re
import struct
import sys

NAMES = {0x020: "FMUL", 0x021: "FADD", 0x023: "FFMA", 0x108: "MUFU", 0x147: "BRA", 0x00c: "ISETP",
         0x00b: "FSETP", 0x008: "FSEL", 0x024: "IMAD", 0x010: "IADD3", 0x011: "LEA", 0x002: "MOV",
         0x009: "FMNMX", 0x118: "NOP", 0x0b9: "ULDC", 0x184: "LDS", 0x188: "STS", 0x183: "LDL", 0x187: "STL"}


def words(path):
    """{kernel: [(low, high) 64-bit words of each instruction]} of a cubin's .text sections"""
    data = open(path, "rb").read()
    shoff = struct.unpack_from("<Q", data, 0x28)[0]
    shentsize, shnum, shstrndx = struct.unpack_from("<HHH", data, 0x3A)
    sh = [struct.unpack_from("<IIQQQQ", data, shoff + i * shentsize) for i in range(shnum)]
    strtab = sh[shstrndx][4]
    out = {}
    for name, _typ, _flags, _addr, off, size in sh:
        end = data.index(b"\0", strtab + name)
        sec = data[strtab + name:end].decode()
        if sec.startswith(".text."):
            out[sec[6:]] = [struct.unpack_from("<QQ", data, p) for p in range(off, off + size, 16)]
    return out


def branch_target(i, lo, hi):
    """instruction i's BRA target (an instruction index). The byte offset from the next
    instruction: bits 16-23 hold its bits 2-9, bits 34 on (signed) the bits from 10 (read off
    nvcc 13's sm_90 output: a loop's back edge and the final self-branch land where they must, and
    every BRA of real.cu's kernels lands on an instruction of its kernel)."""
    w = ((lo >> 32) | (hi << 32)) & ((1 << 50) - 1)
    if w >> 49:
        w -= 1 << 50
    return i + 1 + (w * 256 + ((lo >> 16) & 0xFF) * 4) // 16


def step_loop(ins):
    """the body of the longest backward branch (the step loop), as (first, last) indices"""
    best = None
    for i, (lo, hi) in enumerate(ins):
        if (lo & 0xFFF) == 0x947:
            t = branch_target(i, lo, hi)
            if t < i and (best is None or i - t > best[1] - best[0]):
                best = (t, i)
    return best


def kernels(path):
    """{kernel: Counter of opcodes} (NOPs left out)"""
    return {k: collections.Counter(lo & 0x1FF for lo, _ in ins if lo & 0x1FF != 0x118)
            for k, ins in words(path).items()}


MODES = {"0": "threshold", "1": "lite", "2": "full", "3": "bare"}  # smf_kernel.cuh's K_*


def label(k):
    """a kernel's precision (and packed, or the run kernel's mode) from its mangled name"""
    m = re.search(r"smf_kernelI[fd]Li\d+ELi(\d+)E", k)
    return (("packed " if "packed" in k else "") + ("fp32" if "IfL" in k else "fp64" if "IdL" in k else k) +
            (" " + MODES.get(m.group(1), m.group(1)) if m else "") + (" bare" if "Lb1E" in k else "") +
            (" npl %s" % re.search(r"packed_kernelI[fd]Li(\d+)E", k).group(1) if "packed" in k else ""))


def show(c):
    return " ".join("%s %d" % (NAMES.get(o, hex(o)), n) for o, n in c.most_common(12))


LDG, STG, LDL, STL = 0x981, 0x986, 0x983, 0x387


def mem_rounds(ins):
    """memory round trips of one pass through straight-line code: the instructions that wait on a
    scoreboard (control bits 116-121) last set by an LDG (bits 110-112), counted once per group of
    loads (a wait counts only when an LDG was issued since the last counted one)"""
    pending, n, fresh = [False] * 6, 0, False
    for lo, hi in ins:
        wait = (hi >> 52) & 0x3F
        if fresh and any(pending[b] for b in range(6) if wait >> b & 1):
            n += 1
            fresh = False
        for b in range(6):
            if wait >> b & 1:
                pending[b] = False
        wb = (hi >> 46) & 7
        if wb < 6:
            pending[wb] = (lo & 0xFFF) == LDG
        fresh = fresh or (lo & 0xFFF) == LDG
    return n


def loops(ins):
    """every backward branch's body as (first, last), outermost first"""
    out = [(branch_target(i, lo, hi), i) for i, (lo, hi) in enumerate(ins)
           if (lo & 0xFFF) == 0x947 and branch_target(i, lo, hi) < i]
    return sorted(out, key=lambda r: (r[0], -r[1]))


if len(sys.argv) == 4 and sys.argv[1] == "--mem":  # kernels whose name holds argv[2]: their loops' memory
    for k, ins in sorted(words(sys.argv[3]).items()):
        if sys.argv[2] not in k:
            continue
        print("%s: %d instructions, %d memory round trips in all" % (k, len(ins), mem_rounds(ins)))
        ls = loops(ins)
        for t, i in ls:
            depth = sum(1 for a, b in ls if a <= t and i <= b and (a, b) != (t, i))
            body = ins[t:i + 1]
            c = collections.Counter(lo & 0xFFF for lo, _ in body)
            print("  %sloop %d-%d: %d instructions, LDG %d STG %d LDL %d STL %d, %d round trips" %
                  ("  " * depth, t, i, len(body), c[LDG], c[STG], c[LDL], c[STL], mem_rounds(body)))
    sys.exit(0)
if len(sys.argv) == 3 and sys.argv[1] == "--loop":  # each kernel's step loop
    for k, ins in sorted(words(sys.argv[2]).items()):
        t, i = step_loop(ins)
        c = collections.Counter(lo & 0x1FF for lo, _ in ins[t:i + 1] if lo & 0x1FF != 0x118)
        print("%s: %d instructions in its step loop: %s" % (label(k), sum(c.values()), show(c)))
    sys.exit(0)
if len(sys.argv) == 2:  # one cubin: each kernel's whole count
    for k, c in sorted(kernels(sys.argv[1]).items()):
        print("%s: %d instructions in all: %s" % (label(k), sum(c.values()), show(c)))
    sys.exit(0)
a, b = kernels(sys.argv[1]), kernels(sys.argv[2])
for k in sorted(a):
    if k not in b:
        continue
    d = collections.Counter({op: b[k][op] - a[k][op] for op in set(a[k]) | set(b[k]) if b[k][op] != a[k][op]})
    print("%s: %d instructions per fiber-step: %s" % (label(k), sum(d.values()), show(d)))
