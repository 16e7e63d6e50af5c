#!/usr/bin/env python3
"""Fills a run's review.csv with the synthetic truth, as a reviewer would: the review-loop demonstration
(benchmarks/README.md, "Review loop"). Usage: review_loop.py REVIEW_CSV TRUTH_CSV OUT_CSV"""
import csv, sys

review_csv, truth_csv, out_csv = sys.argv[1:4]
truth = {(r["page"], r["row"], r["column"]): r["value"] for r in csv.DictReader(open(truth_csv))}
rows = list(csv.DictReader(open(review_csv)))
filled = 0
with open(out_csv, "w", newline="") as f:
    writer = csv.DictWriter(f, fieldnames=rows[0].keys())
    writer.writeheader()
    for row in rows:
        value = truth.get((row["page"], row["row"], row["column"]))
        if value is not None and value != "":
            row["value"] = value
            filled += 1
            writer.writerow(row)
print(f"{filled} of {len(rows)} cells filled from the truth")
