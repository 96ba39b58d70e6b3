"""`manage.py evaluate texture`: Table 1 of the TSN + DSDH paper on the packaged textures.

Loads the committed hashing checkpoints (``texture-hash-<variant>.pt``, made by
`manage.py train texture_hash ...`), codes the database (training-region crops) and the
queries (test-region crops), and reports per method mAP over the whole database at each
code length, precision within Hamming radius 2, and the Hamming search time per query at
the database's size; the LBP + LSH baseline is built on the spot. ``ablation`` holds the
no-attention and no-augmentation models' mAP at 64 bits; ``synthetic`` the search time over
1,000,000 random 64-bit codes.

``--validation`` is the tuning protocol: it reads the ``texture-hash-<variant>-validation.pt``
checkpoints (made by `train texture_hash --validation`, which never see the validation
quadrant) and scores them with validation-quadrant queries against a database from the two
training quadrants left; a checkpoint trained on the full training region is refused there,
and a validation checkpoint is never read by the test protocol.
"""

import argparse
import time
from pathlib import Path

from django.conf import settings

from retrieval.core.evaluation import EvaluationTask, InvalidOptions, positive_int
from retrieval.engine.texture.codes import load_hasher
from retrieval.engine.texture.evaluate import BITS, hasher_codes, lbp_codes, score, split, synthetic_search_ms
from retrieval.engine.texture.patterns import GIMP_PATTERNS, load_textures
from retrieval.engine.texture.regions import protocol_summary

METHODS = {"tsn_dsdh": "tsn_dsdh", "tsn_dpsh": "tsn_dpsh", "dsdh": "dsdh"}  # method -> checkpoint variant
ABLATIONS = {"no_attention": "tsn_dsdh_no_attention", "no_augmentation": "tsn_dsdh_no_augmentation"}
PAPER_TABLE_1 = {"tsn_dsdh": {"32": 0.731, "64": 0.746, "128": 0.759, "256": 0.762},
                 "dsdh": {"32": 0.554, "64": 0.582, "128": 0.600, "256": 0.606},
                 "lbp_lsh": {"32": 0.368, "64": 0.395, "128": 0.411, "256": 0.419}}
TARGET_MAP64, TARGET_QUERY_MS = 0.75, 0.05


def patterns_dir() -> Path:
    return Path(settings.RETRIEVAL.get("DATASETS", {}).get("textures", GIMP_PATTERNS))


def checkpoint_path(folder: Path, variant: str, validation: bool = False) -> Path:
    return folder / f"texture-hash-{variant}{'-validation' if validation else ''}.pt"


def _hasher(folder: Path, variant: str, validation: bool, missing: list):
    """The variant's hasher for this protocol, or None (its file name added to ``missing``)."""
    path = checkpoint_path(folder, variant, validation)
    if not path.is_file():
        missing.append(path.name)
        return None
    hasher = load_hasher(path)
    if bool(hasher.record.get("validation")) != validation:
        raise InvalidOptions(f"{path.name} was trained for the {'test' if validation else 'validation'} protocol: "
                             "its training crops cover this protocol's queries")
    return hasher


def texture_evaluate(*, checkpoints: Path | None = None, textures: int | None = None,
                     synthetic: int = 1_000_000, validation: bool = False) -> dict:
    started = time.perf_counter()
    folder = Path(checkpoints or settings.RETRIEVAL["CHECKPOINT_DIR"])
    chosen = load_textures(patterns_dir(), limit=textures)
    if len(chosen) < 2:
        raise InvalidOptions("the evaluation needs at least 2 textures")
    database, queries = split(chosen, validation=validation)
    methods, missing, checkpoints_used = {}, [], {}
    for name, variant in METHODS.items():
        if hasher := _hasher(folder, variant, validation, missing):
            checkpoints_used[name] = hasher.checkpoint_id
            methods[name] = score(hasher_codes(hasher, database, queries), database, queries)
    methods["lbp_lsh"] = score(lbp_codes(database, queries), database, queries)
    ablation = {}
    for name, variant in ABLATIONS.items():
        if hasher := _hasher(folder, variant, validation, missing):
            checkpoints_used[name] = hasher.checkpoint_id
            codes = hasher_codes(hasher, database, queries)
            ablation[name] = {"mAP": {str(b): score({b: codes[b]}, database, queries)["mAP"][str(b)] for b in codes}}
    report = {"task": "texture", "split": "validation" if validation else "test", "protocol": protocol_summary(chosen),
              "database": len(database), "queries": len(queries), "methods": methods, "ablation": ablation,
              "paper_table_1": PAPER_TABLE_1, "checkpoints": checkpoints_used, "missing": missing}
    if synthetic:
        report["synthetic"] = synthetic_search_ms(count=synthetic)
    report["target"] = target_check(report)
    report["seconds"] = round(time.perf_counter() - started, 1)
    return report


def target_check(report: dict) -> dict:
    m = report["methods"]
    check = {}
    if all(k in m for k in ("tsn_dsdh", "dsdh", "lbp_lsh")):
        check["ordering"] = {b: m["tsn_dsdh"]["mAP"].get(b, 0) > m["dsdh"]["mAP"].get(b, 0) > m["lbp_lsh"]["mAP"].get(b, 0)
                             for b in map(str, BITS) if b in m["tsn_dsdh"]["mAP"]}
        check["ordering_met"] = all(check["ordering"].values()) if check["ordering"] else False
    if "tsn_dsdh" in m and "64" in m["tsn_dsdh"]["mAP"]:
        full = m["tsn_dsdh"]["mAP"]["64"]
        check["map64"], check["map64_met"] = full, full >= TARGET_MAP64
        check["ablations_lower"] = {k: v["mAP"].get("64", 1.0) < full for k, v in report["ablation"].items()}
        check["query_ms_met"] = m["tsn_dsdh"]["query_ms"] <= TARGET_QUERY_MS
    check["met"] = bool(check.get("ordering_met") and check.get("map64_met") and check.get("ablations_lower")
                        and all(check["ablations_lower"].values()) and check.get("query_ms_met"))
    return check


def _arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--textures", type=positive_int, default=None, help="only the first N textures (a quick subset)")
    parser.add_argument("--checkpoints", type=Path, default=None, help="folder of the texture-hash-*.pt checkpoints")
    parser.add_argument("--synthetic", type=int, default=1_000_000,
                        help="random 64-bit codes for the search-time measurement (0: skip)")
    parser.add_argument("--validation", action="store_true",
                        help="the tuning protocol: validation-quadrant queries, the *-validation.pt checkpoints")


def _run(*, textures: int | None = None, checkpoints: Path | None = None, synthetic: int = 1_000_000,
         validation: bool = False, **_) -> dict:
    return texture_evaluate(checkpoints=checkpoints, textures=textures, synthetic=synthetic, validation=validation)


def _render(report: dict) -> str:
    bits = [str(b) for b in BITS]
    lines = [f"{report['split']} protocol: {report['protocol']['classes']} textures, "
             f"database {report['database']}, queries {report['queries']} "
             f"({report['protocol']['crop']} px crops)", "",
             f"{'method':<12}" + "".join(f"{'mAP@' + b:>10}" for b in bits) + f"{'P(r<=2)@64':>12}{'ms/query':>10}"]
    for name, r in report["methods"].items():
        lines.append(f"{name:<12}" + "".join(f"{r['mAP'].get(b, float('nan')):>10.4f}" for b in bits)
                     + f"{r['precision_r2'].get('64', float('nan')):>12.4f}{r['query_ms']:>10.4f}")
        paper = report["paper_table_1"].get(name)
        if paper:
            lines.append(f"{'  paper':<12}" + "".join(f"{paper[b]:>10.3f}" for b in bits))
    for name, r in report["ablation"].items():
        lines.append(f"ablation {name}: mAP@64 {r['mAP'].get('64', float('nan')):.4f}")
    if "synthetic" in report:
        s = report["synthetic"]
        lines.append(f"Hamming search over {s['codes']:,} {s['bits']}-bit codes: {s['ms_per_query']} ms/query "
                     f"(batch of {s['queries']}), {s['ms_single_query']} ms alone")
    if report["missing"]:
        lines.append("missing checkpoints: " + ", ".join(report["missing"]))
    lines.append(f"target met: {report['target']['met']} ({report['seconds']} s)")
    return "\n".join(lines)


TASK = EvaluationTask(name="texture", help="Texture hashing (TSN + DSDH, Table 1): mAP at 32-256 bits per method.",
                      add_arguments=_arguments, run=_run, render=_render)
