"""Per-kernel SASS opcode counts of two cubins (sm_90), and their difference: the instructions of
one more copy of an unrolled loop. Reads the ELF sections .text.<kernel> directly (128-bit
instructions; the opcode is in the low bits of the first word), so it needs no cuobjdump. Only the
opcodes used to read the S-MF step are named; the others print as hex. With one cubin: each
kernel's whole count (real.cu: the run kernel, whose loop count.sh cannot take apart)."""
import collections
import struct
import sys

NAMES = {0x020: "FMUL", 0x021: "FADD", 0x023: "FFMA", 0x108: "MUFU", 0x147: "BRA", 0x00c: "ISETP",
         0x00b: "FSETP", 0x008: "FSEL", 0x024: "IMAD", 0x010: "IADD3", 0x011: "LEA", 0x002: "MOV",
         0x009: "FMNMX", 0x118: "NOP", 0x0b9: "ULDC", 0x184: "LDS", 0x188: "STS", 0x183: "LDL", 0x187: "STL"}


def kernels(path):
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
            ops = [struct.unpack_from("<Q", data, p)[0] & 0x1FF for p in range(off, off + size, 16)]
            out[sec[6:]] = collections.Counter(op for op in ops if op != 0x118)
    return out


def label(k):
    """a kernel's precision (and packed) from its mangled name"""
    return ("packed " if "packed" in k else "") + ("fp32" if "IfL" in k else "fp64" if "IdL" in k else k)


if len(sys.argv) == 2:  # one cubin: each kernel's whole count
    for k, c in sorted(kernels(sys.argv[1]).items()):
        print("%s: %d instructions in all: %s" % (label(k), sum(c.values()),
              " ".join("%s %d" % (NAMES.get(o, hex(o)), n) for o, n in c.most_common(12))))
    sys.exit(0)
a, b = kernels(sys.argv[1]), kernels(sys.argv[2])
for k in sorted(a):
    if k not in b:
        continue
    d = {op: b[k][op] - a[k][op] for op in set(a[k]) | set(b[k]) if b[k][op] != a[k][op]}
    top = sorted(d.items(), key=lambda x: -x[1])[:12]
    print("%s: %d instructions per fiber-step: %s" % (label(k), sum(d.values()),
          " ".join("%s %d" % (NAMES.get(o, hex(o)), n) for o, n in top)))
