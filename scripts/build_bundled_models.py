"""Rebuild every bundled model (and its model card) from the London Face Set, bit for bit.

Run:  python scripts/build_bundled_models.py [--data ../shared/data/london-face-set]

Trains, on all 82 people of the London set (CC BY 4.0, see its SOURCE.md), for
neutral -> happy and happy -> neutral: the shape + texture model (the default), the
paper's Pixel-RR and Pixel-KR (lambda 0.4, sigma 3); and the native engine's mouth bank
(`src/pixelfes/mouth/london-mouths.safetensors`: the open smiles' mouth interiors, every
smile's motion and the neutral lip lines' crease profiles). Each is stored in float16 when that
costs under 0.5/255 mean error on the training crops, else float32, and the script
says which. Held-out figures for the model cards come from identity-disjoint 5-fold
cross-validation (each person scored by models that never saw them):
`python scripts/build_bundled_models.py --cards` (slower; needs the [eval] extra).
"""

from __future__ import annotations

import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")  # same float rounding on every run
os.environ.setdefault("OMP_NUM_THREADS", "1")

import argparse  # noqa: E402
import hashlib  # noqa: E402
import json  # noqa: E402
import tempfile  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

import pixelfes  # noqa: E402
from pixelfes.alignment import DEFAULT_ALIGNMENT, Alignment  # noqa: E402
from pixelfes.datasets import load_pairs  # noqa: E402
from pixelfes.models import make_model  # noqa: E402
from pixelfes.zoo import BUNDLED_DIR  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
ATTRIBUTION = ("DeBruine, L., & Jones, B. (2017). Face Research Lab London Set (Version 5). "
               "figshare. https://doi.org/10.6084/m9.figshare.5047666.v5 — CC BY 4.0")
DIRECTIONS = [("neutral", "happy"), ("happy", "neutral")]
PAPER_FRAMING = Alignment(size=128, margin=1.0)  # the paper's own crops, for its own models
KINDS = {  # bundled name suffix -> (model type, params, alignment)
    "": ("shape-texture", {}, DEFAULT_ALIGNMENT),
    "-pixel-rr": ("pixel-rr", {"lam": 0.4}, PAPER_FRAMING),
    "-pixel-kr": ("pixel-kr", {"lam": 0.4, "sigma": 3.0}, PAPER_FRAMING),
}
MAX_ERROR = 0.5 / 255  # mean abs error allowed for float16 storage


def choose_precision(model, X, Ls) -> tuple[str, float]:
    """float16 if its mean error on ``X`` is under 0.5/255, else float32; returns (choice, error)."""
    kwargs = {"landmarks": Ls} if model.requires_landmarks else {}
    exact = model.predict(X.astype(np.float64) / 255 if not kwargs else X, **kwargs)
    with tempfile.TemporaryDirectory() as tmp:
        small = pixelfes.load(model.save(Path(tmp) / "m.safetensors", precision="float16"))
        approx = small.predict(X.astype(np.float64) / 255 if not kwargs else X, **kwargs)
    scale = 1.0 if not kwargs else 255.0
    err = float(np.mean(np.abs(approx.astype(np.float64) - exact.astype(np.float64)))) / scale
    return ("float16" if err < MAX_ERROR else "float32"), err


def build(data: Path, out: Path, heldout: dict | None = None) -> list[dict]:
    built = []
    for source, target in DIRECTIONS:
        for suffix, (kind, params, alignment) in KINDS.items():
            pairs = load_pairs(data, source, target, alignment, progress=True)
            model = make_model(kind, **params)
            model.fit(pairs.X, pairs.T, **pairs.fit_kwargs())
            name = f"{source}-to-{target}{suffix}"
            model.info.update(
                source=source, target=target, default=(suffix == ""),
                training={"data": "Face Research Lab London Set (82 people)",
                          "pairs": len(pairs.X), "people": len(set(pairs.identities)),
                          "licence": "CC BY 4.0", "attribution": ATTRIBUTION},
            )
            n_sub = min(20, len(pairs.X))
            precision, err = choose_precision(model, pairs.X[:n_sub], pairs.landmarks_source[:n_sub])
            model.info["storage"] = {"precision": precision, "mean_abs_error_vs_float64": err}
            path = model.save(out / f"{name}.safetensors", precision=precision)
            digest = hashlib.sha256(path.read_bytes()).hexdigest()
            entry = {"name": name, "type": kind, "precision": precision, "error": err,
                     "bytes": path.stat().st_size, "sha256": digest,
                     "parameters": model.n_parameters}
            built.append(entry)
            write_card(entry, model, out, heldout)
            print(f"{name:28s} {kind:14s} {precision} (float16 error {err * 255:.3f}/255) "
                  f"{path.stat().st_size / 1e6:.2f} MB  sha256 {digest[:16]}", flush=True)
    return built


def write_card(entry: dict, model, out: Path, heldout: dict | None) -> None:
    """A model card: what it is, the data and its terms, settings, storage, held-out figures."""
    info = model.info
    lines = [
        f"# {entry['name']}",
        "",
        f"{info['source']} -> {info['target']}, a `{entry['type']}` model"
        + (" (pixelfes's default for this direction)." if info.get("default") else
           " (the paper's model, kept exact for reproduction)."),
        "",
        "## Training data",
        f"- {info['training']['data']}: {info['training']['pairs']} pairs of "
        f"{info['training']['people']} people, one neutral and one smiling frontal photo each.",
        f"- Licence: {info['training']['licence']}. Attribution: {ATTRIBUTION}.",
        "- All individuals gave signed consent for their images to be used in lab- and web-based "
        "studies in their original or altered forms (from the data set's README).",
        "",
        "## Settings",
        f"- parameters: `{json.dumps(model.get_params())}`",
        f"- alignment: template `{model.alignment_.template}`, canvas "
        f"{model.alignment_.size} px, margin {model.alignment_.margin}",
        f"- learned numbers: {entry['parameters']:,}; file: {entry['bytes']:,} bytes",
        f"- storage: {entry['precision']} (float16 costs {entry['error'] * 255:.3f}/255 mean "
        "absolute error against float64 on 20 training crops; float16 is used when that is "
        "under 0.5/255)",
    ]
    if hasattr(model, "shape_model_"):
        lines.append(f"- shape model chosen by identity-disjoint 5-fold CV: "
                     f"`{model.shape_model_.method_}` (lam {model.shape_model_.lam_:g})")
    lines += ["", "## Held-out figures", ""]
    if heldout and entry["name"] in heldout:
        lines += heldout[entry["name"]]
    else:
        lines.append("Run `python scripts/build_bundled_models.py --cards` to measure them "
                     "(identity-disjoint 5-fold over the 82 people).")
    native_file = out / "NATIVE_HELDOUT.json"
    if info.get("default") and native_file.is_file():
        lines += ["", *native_card_lines(json.loads(native_file.read_text()), entry["name"])]
    lines += ["", f"Rebuild bit for bit: `python scripts/build_bundled_models.py` (sha256 "
              f"`{entry['sha256']}`).", ""]
    (out / f"{entry['name']}.md").write_text("\n".join(lines))


#: how each of the measure's open/closed calls reads, for the card
_CALLS = {"photo": "as the photo shows it (teeth seen, the lip line found where the lips meet: "
                   "docs/mouth.md, \"Which call the measure uses\")",
          "area": "by the landmarks' inner-lip area"}


def native_card_lines(native: dict, name: str) -> list[str]:
    """Full-size mouth figures, native vs canvas engine, from ``scripts/mouth_eval.py --json``
    (stored as bundled/NATIVE_HELDOUT.json)."""
    key = {"neutral-to-happy": "neutral:happy", "happy-to-neutral": "happy:neutral"}.get(name)
    if key is None or key not in native.get("directions", {}):
        return []
    summary = native["directions"][key]["summary"]
    lines = ["## At the photo's own size (the native engine, the default for photos)", "",
             "Identity-disjoint 5-fold over the 82 people (model *and* mouth bank trained on 4/5, "
             "the other 1/5 measured), 1350 px photos, mouth found by 68 landmarks on each "
             f"output, open or closed {_CALLS.get(native.get('mouth_call', 'area'), 'by the landmarks')}, "
             "against the person's real photo (docs/mouth.md; `PYTHONPATH=src python "
             "scripts/mouth_eval.py --model-factory shape-texture --model-factory native "
             "--model-factory native-likely --judges`):", "",
             "| engine | contrast error (L*) | where the real mouth is open / closed | worst / best "
             "group | tint error (a*b*) | detail ratio | outputs open / real open |",
             "|---|---|---|---|---|---|---|"]
    for engine, label in (("shape-texture", "canvas (the model's crop pasted back)"),
                          ("native", "**native**"), ("native-likely", 'native, `mouth="likely"`')):
        if engine not in summary:
            continue
        r = summary[engine]
        groups = [g["contrast_error"] for g in r["groups"].values() if g["n"] >= 3]
        ratio = max(groups) / min(groups) if groups else float("nan")
        lines.append(f"| {label} | {r['contrast_error']:.2f} | {r['contrast_error_real_open']:.2f} / "
                     f"{r['contrast_error_real_closed']:.2f} | {ratio:.2f} | {r['tint_error']:.2f} | "
                     f"{r['detail_ratio']:.2f} | {r['open_output']:.2f} / {r['open_real']:.2f} |")
    judges = native["directions"][key].get("judges")
    if judges:
        lines += ["", "The canvas judges on the same outputs, cut back to the model's canvas "
                  "(`pixelfes.evaluate.photo_scores`):", "",
                  "| engine | fer: called target | face-api | identity distance | PSNR | SSIM | sharpness |",
                  "|---|---|---|---|---|---|---|"]
        for engine in ("input", "shape-texture", "native", "native-likely", "real target"):
            j = judges.get(engine)
            if j is None:
                continue
            cells = [f"{j.get(k, float('nan')):.{d}f}" if k in j else "-" for k, d in
                     (("fer.accuracy", 2), ("faceapi.accuracy", 2), ("identity.distance", 3),
                      ("quality.psnr", 2), ("quality.ssim", 3), ("quality.sharpness", 2))]
            lines.append(f"| {engine} | " + " | ".join(cells) + " |")
    return lines


METRICS = [("fer.accuracy", "share called {target} by fer", "{:.2f}"),
           ("fer.p_target", "mean P({target}) (fer)", "{:.2f}"),
           ("quality.psnr", "PSNR vs the real {target} photo, dB", "{:.2f}"),
           ("quality.ssim", "SSIM vs the real {target} photo", "{:.3f}"),
           ("identity.distance", "dlib identity distance to the real photo", "{:.3f}"),
           ("quality.sharpness", "sharpness ratio", "{:.2f}")]


#: the protocol's spec of each bundled kind (KINDS' parameters)
SPECS = {"": "shape-texture", "-pixel-rr": "pixel-rr:lam=0.4", "-pixel-kr": "pixel-kr:lam=0.4,sigma=3"}


def measure_heldout(data: Path, out: Path, folds: int = 5) -> dict:
    """Identity-disjoint k-fold figures per bundled model, next to the trivial baselines, each
    measured on the crops it is made for (its KINDS alignment: the paper's models on the
    paper's 128 px / margin 1.0 crops, the default on 192 px / margin 1.5)."""
    from pixelfes.evaluate.protocol import kfold_splits, run_protocol

    cards: dict[str, list[str]] = {}
    table: dict[str, dict] = {}
    for source, target in DIRECTIONS:
        for alignment in dict.fromkeys(a for _, _, a in KINDS.values()):
            suffixes = [sfx for sfx, (_, _, a) in KINDS.items() if a == alignment]
            pairs = load_pairs(data, source, target, alignment, progress=True)
            splits = kfold_splits(pairs.identities, folds, seed=0)
            res = run_protocol(pairs.X, pairs.T, pairs.identities, [SPECS[x] for x in suffixes],
                               splits, source=source, target=target,
                               landmarks_source=pairs.landmarks_source,
                               landmarks_target=pairs.landmarks_target,
                               alignment=pairs.alignment, progress=True)
            summary = res.summary()
            labels = [k.split("@")[0] for k in res.methods if "@" in k]
            prefix = {"": "Shape", "-pixel-rr": "Pixel-RR", "-pixel-kr": "Pixel-KR"}
            keys = {x: next(lab for lab in labels if lab.startswith(prefix[x])) for x in suffixes}
            region = ("quality on the central 128 px (the paper's framing)"
                      if alignment != PAPER_FRAMING else "quality on the whole crop")
            header = ("| method | " + " | ".join(n.format(target=target) for _, n, _ in METRICS)
                      + " |")
            direction = table.setdefault(f"{source}->{target}", {})
            for suffix, label in keys.items():
                name = f"{source}-to-{target}{suffix}"
                lines = [f"Identity-disjoint {folds}-fold over the 82 people (each person scored "
                         "by models trained without them), crops "
                         f"{alignment.size} px / margin {alignment.margin:g} (this model's own), "
                         f"{region}:", "", header, "|" + "---|" * (len(METRICS) + 1)]
                for key in [res.key(label), "input", "mean target", "real target"]:
                    cells = []
                    for metric, _, fmt in METRICS:
                        v = summary.get(key, {}).get(metric)
                        cells.append("-" if v is None else
                                     f"{fmt.format(v['mean'])} ± {fmt.format(v['std'])}")
                    shown = "**this model**" if key == res.key(label) else key
                    lines.append(f"| {shown} | " + " | ".join(cells) + " |")
                    where = f"{key} @ {alignment.size}/{alignment.margin:g}"
                    direction[where] = {m: summary.get(key, {}).get(m, {}).get("mean")
                                        for m, _, _ in METRICS}
                cards[name] = lines
    (out / "HELDOUT.json").write_text(json.dumps(cards, indent=1) + "\n")
    return table


def rewrite_cards(out: Path, heldout: dict | None) -> None:
    """The model cards again from the models as they are (BUILD.json), nothing refitted."""
    for entry in json.loads((out / "BUILD.json").read_text()):
        if entry.get("type") == "mouth-bank":
            continue
        write_card(entry, pixelfes.load(out / f"{entry['name']}.safetensors"), out, heldout)
        print(f"card {entry['name']}.md rewritten", flush=True)


def build_bank(data: Path) -> dict:
    """The mouth bank of the native engine: the open smiles of all 82 people (CC BY 4.0)."""
    from pixelfes.face import detect_faces
    from pixelfes.imageio import load_image
    from pixelfes.mouth import MouthBank
    from pixelfes.mouth.bank import BANK_PATH, MIN_GAP

    photos, lms, neutral, neutral_rgb, ids = [], [], [], [], []
    for path in sorted((data / "smiling_front").glob("*_08.jpg")):
        other = data / "neutral_front" / f"{path.name[:3]}_03.jpg"
        if not other.is_file():
            continue
        rgb = load_image(path).rgb
        photos.append(rgb)
        lms.append(detect_faces(rgb, landmarks=68, max_faces=1)[0].landmarks)
        neutral_rgb.append(load_image(other).rgb)
        neutral.append(detect_faces(neutral_rgb[-1], landmarks=68, max_faces=1)[0].landmarks)
        ids.append(path.name[:3])
    bank = MouthBank.build(photos, lms, ids, neutral_landmarks=neutral, neutral_photos=neutral_rgb)
    bank.save(BANK_PATH)
    digest = hashlib.sha256(BANK_PATH.read_bytes()).hexdigest()
    card = BANK_PATH.with_suffix(".md")
    text = card.read_text() if card.is_file() else ""
    marker = "## Build"
    head = text.split(marker)[0].rstrip() + "\n\n" if marker in text else text
    card.write_text(head + f"{marker}\n\n- teeth of {len(bank)} open smiles, smile motions of "
                    f"all {len(ids)} people "
                    f"(inner-lip gap >= {MIN_GAP} of the mouth width), closed-lip crease "
                    f"profiles of {int(np.isfinite(bank.neutral_crease).all(axis=1).sum())} neutral photos, "
                    f"closed-lip relief maps of "
                    f"{int((np.isfinite(bank.neutral_relief).reshape(len(ids), -1).mean(1) > 0.9).sum())} "
                    "neutral photos, "
                    f"{BANK_PATH.stat().st_size:,} bytes, sha256 `{digest}`.\n"
                    f"- Data: {ATTRIBUTION}.\n"
                    "- Rebuild: `python scripts/build_bundled_models.py`.\n")
    print(f"mouth bank: {len(bank)} exemplars, {BANK_PATH.stat().st_size / 1e6:.2f} MB, "
          f"sha256 {digest[:16]}", flush=True)
    return {"name": "london-mouths", "type": "mouth-bank", "exemplars": len(bank),
            "bytes": BANK_PATH.stat().st_size, "sha256": digest}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, default=REPO.parent / "shared" / "data" / "london-face-set")
    ap.add_argument("--out", type=Path, default=BUNDLED_DIR)
    ap.add_argument("--cards", action="store_true",
                    help="first measure held-out figures for the model cards (slow)")
    ap.add_argument("--cards-only", action="store_true",
                    help="rewrite the model cards of the models as they are (no refit); "
                    "with --cards, from new held-out figures")
    ap.add_argument("--bank-only", action="store_true",
                    help="rebuild only the mouth bank (and its entry in BUILD.json)")
    args = ap.parse_args()
    if not args.data.is_dir():
        raise SystemExit(f"London Face Set not found at {args.data}; pass --data DIR")
    args.out.mkdir(parents=True, exist_ok=True)
    if args.cards:
        table = measure_heldout(args.data, args.out)
        print(json.dumps(table, indent=1))
    heldout_file = args.out / "HELDOUT.json"
    heldout = json.loads(heldout_file.read_text()) if heldout_file.is_file() else None
    if args.cards_only:
        rewrite_cards(args.out, heldout)
        return
    if args.bank_only:
        entry = build_bank(args.data)
        build_file = args.out / "BUILD.json"
        built = [e for e in json.loads(build_file.read_text()) if e.get("type") != "mouth-bank"]
        build_file.write_text(json.dumps([*built, entry], indent=2) + "\n")
        return
    built = build(args.data, args.out, heldout)
    built.append(build_bank(args.data))
    (args.out / "BUILD.json").write_text(json.dumps(built, indent=2) + "\n")
    total = sum(b["bytes"] for b in built)  # models + the mouth bank
    print(f"total {total / 1e6:.2f} MB in {args.out}")


if __name__ == "__main__":
    main()
