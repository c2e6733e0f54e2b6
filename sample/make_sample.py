#!/usr/bin/env python3
"""Derives the shipped sample (sample/*.csv, sample/*.csv.gz) from the real files in
../shared/data: the Liverpool (E08000012) rows of the IoD2019 files as published and a few
dozen real Liverpool venues. Opening hours, wheelchair access, cost and the extra tags of the
venues are ILLUSTRATIVE (the sources do not record them): see sample/README.md.

Run from the checkout: python3 sample/make_sample.py
"""
import csv, gzip, io, math, os

DATA = "../shared/data"
OUT = "sample"
LAD = "E08000012"  # Liverpool


def rows_of(name):
    path = os.path.join(DATA, name)
    opener = gzip.open if name.endswith(".gz") else open
    with opener(path, "rt", encoding="utf-8-sig", newline="") as f:
        return list(csv.reader(f))


def raw_lines(name):
    """Header and data lines as published (BOM kept), for cutting rows unchanged."""
    with gzip.open(os.path.join(DATA, name), "rb") as f:
        return f.read().decode("utf-8").splitlines(keepends=True)


# --- areas: the Liverpool rows of Files 1, 2 and 6 and of the ONS population-weighted
# centroids, byte for byte as published (same headers, same quoting).
file1 = rows_of("File_1_-_IMD2019_Index_of_Multiple_Deprivation.csv.gz")
codes = {r[0] for r in file1[1:] if r[2] == LAD}
for src, dst in [
    ("File_1_-_IMD2019_Index_of_Multiple_Deprivation.csv.gz", "iod2019_liverpool_file1_imd.csv.gz"),
    ("File_2_-_IoD2019_Domains_of_Deprivation.csv.gz", "iod2019_liverpool_file2_domains.csv.gz"),
    ("File_6_-_IoD2019_Population_Denominators.csv.gz", "iod2019_liverpool_file6_population.csv.gz"),
    ("lsoa2011_pwc_england.csv.gz", "lsoa2011_pwc_liverpool.csv.gz"),
]:
    lines = raw_lines(src)
    keep = [lines[0]] + [l for l in lines[1:] if l.lstrip("\ufeff")[:9] in codes]
    assert len(keep) == len(codes) + 1, (src, len(keep))
    with gzip.GzipFile(os.path.join(OUT, dst), "wb", mtime=0) as f:
        f.write("".join(keep).encode("utf-8"))

# --- assets: real venues whose nearest LSOA population-weighted centroid (England) is in
# Liverpool, which is also how the service places an asset when only points are imported.
pwc = rows_of("lsoa2011_pwc_england.csv.gz")[1:]
pts = [(r[0], float(r[2]), float(r[3])) for r in pwc]


def in_liverpool(lat, lon):
    if not (53.30 < lat < 53.50 and -3.05 < lon < -2.80):
        return False
    best = min(pts, key=lambda p: (p[1] - lat) ** 2 + ((p[2] - lon) * math.cos(math.radians(lat))) ** 2)
    return best[0] in codes


def assets(name):
    rows = rows_of(name)
    head = rows[0]
    for r in rows[1:]:
        d = dict(zip(head, r))
        if in_liverpool(float(d["lat"]), float(d["lon"])):
            yield d


HEADER = "source,source_id,name,category,lat,lon,address,town,postcode,website,phone,email,opening_hours,wheelchair,cost,description,tags,status".split(",")


# Illustrative opening hours (OpenStreetMap syntax), access, cost and tags: the sources do
# not record them, and the examples need some. NOT facts about these venues.
LIBRARY_HOURS = ["Mo-Fr 10:00-17:00; Sa 10:00-16:00", "Mo,Tu,Th,Fr 10:00-17:00; Sa 10:00-13:00",
                 "Mo-Fr 09:00-17:00"]
CENTRAL_HOURS = "Mo-Fr 09:00-20:00; Sa,Su 10:00-17:00"
MUSEUM_HOURS = "Mo-Su 10:00-17:00"
THEATRE_HOURS = "Mo-Sa 10:00-22:00"
CAFE_HOURS = "Mo-Sa 08:00-17:00; Su 09:00-16:00"
CAFES = 6


def illustrate(d, i):
    cat, tags = d["category"], [t for t in d["tags"].split(";") if t]
    if cat == "library":
        d["opening_hours"] = CENTRAL_HOURS if d["name"] == "Liverpool central" else LIBRARY_HOURS[i % 3]
        d["wheelchair"] = "limited" if i % 4 == 3 else "yes"
        d["cost"] = "free"
        tags += ["reading-group", "free-wifi"] + (["dementia-friendly"] if i % 2 == 0 else [])
    elif cat in ("museum", "gallery"):
        d["opening_hours"] = MUSEUM_HOURS
        national = "governance-government-national" in tags
        d["wheelchair"] = "yes" if national else ("limited" if i % 2 else "unknown")
        d["cost"] = "free" if national or "governance-university" in tags else "paid"
        tags += ["dementia-friendly"] if national else []
    elif cat == "theatre":
        d["opening_hours"], d["wheelchair"], d["cost"] = THEATRE_HOURS, "yes", "paid"
    elif cat == "cafe":
        d["opening_hours"], d["wheelchair"], d["cost"] = CAFE_HOURS, "unknown", "paid"
    d["tags"] = ";".join(tags)
    return d


out = []
for name in ["assets_england_libraries_2016.csv", "assets_uk_museums_2021.csv",
             "assets_england_theatres_fhrs_2020.csv"]:
    out += [illustrate(d, i) for i, d in enumerate(assets(name))]
# A few cafes of the city centre (near the central library), hygiene rating 5.
cafes = [d for d in assets("assets_england_cafes_fhrs_2020.csv.gz") if "fhrs-rating-5" in d["tags"]]
cafes.sort(key=lambda d: (float(d["lat"]) - 53.4098) ** 2 + (float(d["lon"]) + 2.9806) ** 2 * 0.36)
out += [illustrate(d, i) for i, d in enumerate(cafes[:CAFES])]

with open(os.path.join(OUT, "liverpool_assets.csv"), "w", newline="", encoding="utf-8") as f:
    w = csv.DictWriter(f, HEADER, lineterminator="\n")
    w.writeheader()
    for d in out:
        w.writerow({k: d[k] for k in HEADER})
print(f"{len(out)} assets, {len(codes)} areas")
