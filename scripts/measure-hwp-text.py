#!/usr/bin/env python3
"""Cross-checks `rag parse` on HWP 5 and HWPX files against an independent reading (measurement only).

For every .hwp/.hwpx under the given folder it counts the characters of body text another reader finds: for HWP,
Debian's python3-olefile opens the compound file and the PARA_TEXT records of every BodyText section are decoded
(control characters per Hancom's format: char controls 1 unit, inline/extended controls 8); for HWPX, the text of every
<hp:t> element of the sections. It runs `./rag parse --json` on the same files and prints both side by side, so a file
that `rag parse` calls empty while the other reading finds text (or the reverse) stands out.

    /usr/bin/python3 scripts/measure-hwp-text.py ../shared/corpus/hwp-hwpx

Needs python3-olefile (scripts/setup/50-fonts.sh installs it). Never used by the product or its tests.
"""
import glob
import json
import os
import re
import struct
import subprocess
import sys
import zipfile
import zlib

import olefile


def records(data):
    offset, out = 0, []
    while offset + 4 <= len(data):
        header = struct.unpack('<I', data[offset:offset + 4])[0]
        offset += 4
        tag, size = header & 0x3FF, header >> 20
        if size == 0xFFF:
            size = struct.unpack('<I', data[offset:offset + 4])[0]
            offset += 4
        out.append((tag, data[offset:offset + size]))
        offset += size
    return out


def para_text(data):
    out, i, units = [], 0, len(data) // 2
    while i < units:
        c = struct.unpack('<H', data[2 * i:2 * i + 2])[0]
        if c >= 32:
            out.append(chr(c))
            i += 1
        elif c in (0, 10, 13, 24, 25, 26, 27, 28, 29, 30, 31):
            i += 1
        else:
            i += 8
    return ''.join(out)


def hwp_chars(path):
    ole = olefile.OleFileIO(path)
    properties = struct.unpack('<I', ole.openstream('FileHeader').read()[36:40])[0]
    if properties & 0x4:
        return 'distribution'
    total = 0
    for entry in ole.listdir():
        if entry[0] == 'BodyText':
            data = ole.openstream('/'.join(entry)).read()
            if properties & 0x1:
                data = zlib.decompress(data, -15)
            total += sum(len(''.join(para_text(d).split())) for tag, d in records(data) if tag == 67)
    return total


def hwpx_chars(path):
    archive, total = zipfile.ZipFile(path), 0
    for name in archive.namelist():
        if re.match(r'Contents/section\d+\.xml$', name):
            xml = archive.read(name).decode('utf-8', 'replace')
            for text in re.findall(r'<hp:t(?:\s[^>]*)?>(.*?)</hp:t>', xml, re.S):
                total += len(''.join(re.sub(r'<[^>]+>', '', text).split()))
    return total


def main(folder):
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    run = subprocess.run([os.path.join(root, 'rag'), 'parse', folder, '--ext', 'hwp', '--ext', 'hwpx', '--json'],
                         capture_output=True, text=True, check=False)
    ours = {}
    for line in run.stdout.splitlines():
        if line.startswith('{"file"'):
            row = json.loads(line)
            ours[row['file']] = row
    disagree = 0
    # Characters other than whitespace on both sides: the readers differ in how they space runs and cells.
    print(f"{'file':45} {'rag parse':28} {'rag chars':>9} {'other reader':>12}")
    for path in sorted(glob.glob(os.path.join(folder, '**', '*.hwp*'), recursive=True)):
        name = os.path.relpath(path, folder)
        other = hwp_chars(path) if path.endswith('.hwp') else hwpx_chars(path)
        row = ours.get(name, {})
        result = row.get('result', '?') + ('' if row.get('result') == 'parsed' else f" ({row.get('failure')})")
        chars = row.get('letters', 0) if row.get('result') == 'parsed' else 0
        flag = ''
        if (chars == 0) != (other in (0, 'distribution')):
            flag, disagree = '  <- differs', disagree + 1
        print(f"{name:45} {result:28} {chars:>9} {other!s:>12}{flag}")
    print(f"{len(ours)} files; {disagree} where one reader finds text and the other none")


if __name__ == '__main__':
    main(sys.argv[1] if len(sys.argv) > 1 else '../shared/corpus/hwp-hwpx')
