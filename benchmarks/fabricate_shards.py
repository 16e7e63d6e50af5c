#!/usr/bin/env python3
"""Fabricates the shard folders of a large sharded run from one small finished run, for timing
`logbook merge` without transcribing thousands of pages: each of --pages pages copies a page of SRC
(its manifest record, transcription rows, review rows and review images, hard-linked) under a new
id, dealt round-robin over --shards shards as `logbook run --shard K/N` deals files.

    python3 benchmarks/fabricate_shards.py out/samples /tmp/big --pages 1000 --shards 4
    logbook merge --run /tmp/big
"""
import argparse, copy, hashlib, json, os, shutil

def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("source"); ap.add_argument("out")
    ap.add_argument("--pages", type=int, default=1000); ap.add_argument("--shards", type=int, default=4)
    a = ap.parse_args()
    src = json.load(open(os.path.join(a.source, "manifest.json")))
    done = [p for p in src["pages"] if p["stages"].get("classify", {}).get("status") == "done"]
    header, *rows = open(os.path.join(a.source, "transcription.csv")).read().splitlines()
    rheader, *rrows = open(os.path.join(a.source, "review", "review.csv")).read().splitlines()
    by_page = lambda lines: {p["id"]: [l for l in lines if l.split(",", 1)[0] == p["id"]] for p in done}
    trows, rvrows = by_page(rows), by_page(rrows)
    shutil.rmtree(a.out, ignore_errors=True)
    shards = [dict(copy.deepcopy(src), pages=[], shard={"index": k, "count": a.shards, "files": 0, "completed": src["updated"]})
              for k in range(a.shards)]
    texts = [[header] for _ in range(a.shards)]; reviews = [[rheader] for _ in range(a.shards)]
    for n in range(a.pages):
        k, page = n % a.shards, done[n % len(done)]
        new = "fab%06d" % n
        folder = os.path.join(a.out, "shards", str(k))
        record = json.loads(json.dumps(page).replace('"pages/%s/' % page["id"], '"pages/%s/' % new))
        record.update(id=new, source="scans/%s.png" % new, page_index=0)
        shards[k]["pages"].append(record); shards[k]["shard"]["files"] += 1
        os.makedirs(os.path.join(folder, "pages", new), exist_ok=True)
        texts[k] += [new + l[len(page["id"]):] for l in trows[page["id"]]]
        reviews[k] += [new + l[len(page["id"]):].replace(page["id"] + "/", new + "/") for l in rvrows[page["id"]]]
        images = os.path.join(a.source, "review", page["id"])
        if os.path.isdir(images):
            os.makedirs(os.path.join(folder, "review", new), exist_ok=True)
            for f in os.listdir(images):
                os.link(os.path.join(images, f), os.path.join(folder, "review", new, f))
    for k in range(a.shards):
        folder = os.path.join(a.out, "shards", str(k))
        os.makedirs(os.path.join(folder, "review"), exist_ok=True)
        outputs = {}
        for name, lines in (("transcription.csv", texts[k]), ("review/review.csv", reviews[k])):
            data = ("\n".join(lines) + "\n").encode()
            open(os.path.join(folder, name), "wb").write(data)
            outputs[name] = hashlib.sha256(data).hexdigest()
        shards[k]["export"] = dict(src["export"], outputs=outputs)
        shutil.copy(os.path.join(a.source, "pipeline.yaml"), folder)
        json.dump(shards[k], open(os.path.join(folder, "manifest.json"), "w"), indent=1, sort_keys=True)

if __name__ == "__main__":
    main()
