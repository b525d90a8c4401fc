#!/usr/bin/env python3
"""Builds the ko-notes retrieval set (BEIR layout) from Korean Markdown notes, deterministically.

Passages: every heading section of the notes (heading path as title, its prose as text; code fences dropped),
with at least 20 Hangul syllables. Questions: for up to three of a passage's lines that appear nowhere else,
a keyword question: the line's words, some particles and endings stripped, about a third of the words dropped,
the rest in a shuffled order, and a question frame added. Same input, same seed, same set.

Usage: make.py NOTES_DIR OUT_DIR
"""
import json, os, random, re, sys

FRAMES = ["{}에 대해 알려주세요", "{} 어떻게 하나요?", "{} 관련 내용이 뭐야?", "{}에 대한 설명", "{}은 무엇인가요?"]
ENDINGS = sorted(["은", "는", "이", "가", "을", "를", "의", "에", "로", "으로", "에서", "와", "과", "도", "만",
                  "입니다", "합니다", "하는", "하고", "했다", "한다", "된다", "되는", "있는"], key=len, reverse=True)
HANGUL = re.compile(r"[\uac00-\ud7a3]")


def sections(path):
    heads, body, out, fence = [], [], [], False
    for line in open(path, encoding="utf-8"):
        line = line.rstrip("\n")
        if line.startswith("```"):
            fence = not fence
            continue
        if fence:
            continue
        m = re.match(r"^(#{1,4})\s+(.*)", line)
        if m:
            if body:
                out.append((" > ".join(heads), body))
            level = len(m.group(1))
            heads = heads[:level - 1] + [m.group(2).strip()]
            body = []
        elif line.strip():
            body.append(line.strip())
    if body:
        out.append((" > ".join(heads), body))
    return out


def question(line, rng):
    words = [w.strip("*`-:.,()[]\"'") for w in line.split()]
    words = [w for w in words if w and (HANGUL.search(w) or re.match(r"^[A-Za-z]{2,}$", w))]
    if len(words) < 3:
        return None
    kept = []
    for w in words:
        if rng.random() < 0.33 and len(kept) + (len(words) - len(kept)) > 3:
            continue
        for e in ENDINGS:
            if len(w) >= len(e) + 2 and w.endswith(e) and rng.random() < 0.6:
                w = w[:-len(e)]
                break
        kept.append(w)
    kept = kept[:8]
    rng.shuffle(kept)
    return rng.choice(FRAMES).format(" ".join(kept))


def main(notes, out):
    rng = random.Random(20261205)
    passages = []
    for name in sorted(os.listdir(notes)):
        if not name.endswith(".txt"):
            continue
        for i, (title, body) in enumerate(sections(os.path.join(notes, name))):
            text = "\n".join(body)
            if len(HANGUL.findall(text)) >= 20:
                passages.append({"_id": f"{name[:3]}-{i:02d}", "title": title, "text": text})
    counts = {}
    for p in passages:
        for line in p["text"].split("\n"):
            counts[line] = counts.get(line, 0) + 1
    queries, qrels = [], []
    for p in passages:
        lines = [l for l in p["text"].split("\n") if counts[l] == 1 and len(HANGUL.findall(l)) >= 5]
        lines.sort(key=lambda l: -len(HANGUL.findall(l)))
        for j, line in enumerate(lines[:3]):
            q = question(line, rng)
            if q:
                qid = f"q-{p['_id']}-{j}"
                queries.append({"_id": qid, "text": q})
                qrels.append((qid, p["_id"]))
    os.makedirs(os.path.join(out, "qrels"), exist_ok=True)
    with open(os.path.join(out, "corpus.jsonl"), "w", encoding="utf-8") as f:
        for p in passages:
            f.write(json.dumps(p, ensure_ascii=False) + "\n")
    with open(os.path.join(out, "queries.jsonl"), "w", encoding="utf-8") as f:
        for q in queries:
            f.write(json.dumps(q, ensure_ascii=False) + "\n")
    with open(os.path.join(out, "qrels", "test.tsv"), "w", encoding="utf-8") as f:
        f.write("query-id\tcorpus-id\tscore\n")
        for q, d in qrels:
            f.write(f"{q}\t{d}\t1\n")
    print(f"{len(passages)} passages, {len(queries)} queries")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
