"""The report of `attachpath demo`: data, main models, comparison, truth."""

from __future__ import annotations

from . import format as F
from .document import (Document, Heading, KeyValues, Para, Pre, Row, Section, Table, code,
                       join, listed)
from .sections import (comparison_blocks, corrections, data_sentence, model_blocks,
                       options_text, provenance_blocks, versions_text, warnings_blocks)

TITLE = "attachpath demo: attachment to the therapist and change in interpersonal problems"


def _spec_label(name):
    return f"specs/{name}.lav (a copy of the spec bundled with attachpath)"


def demo_report(prepared: dict, main: dict, cmp, *, main_figs: dict, main_srcs: dict,
                cmp_figs: dict, cmp_srcs: dict, mc_draws: int, seed: int,
                files: list, multilevel: tuple | None = None) -> Document:
    """multilevel: (name, two-level Result, Drawn or None, figure file or None)
    for the section on the multilevel analysis."""
    first = next(iter(main.values()))
    version = first.provenance.get("versions", {}).get("attachpath", "")
    doc = Document(title=TITLE, subtitle=(
        f"The bundled simulated example: {prepared['clients']} clients of "
        f"{prepared['therapists']} therapists \u00b7 attachpath {version}"))

    # -- about ----------------------------------------------------------------
    about = Section(Heading("About this report"))
    about.add(Para(
        "This report runs attachpath's main job on its bundled example, a simulated data set "
        "shaped like the study of Jacobsen et al. (2024): pretreatment attachment (ECR) "
        "\u2192 attachment to the therapist (CATS; the earned-secure ESAT score) \u2192 "
        "growing engagement or autonomy (TDS) \u2192 interpersonal problems after therapy "
        "(IIP post, adjusted for IIP pre). The data are simulated, so the population values "
        "are known and listed at the end for reference.", kind="lead"))
    about.add(Para("The same steps on the command line (from this folder):"))
    mc = f"--mc {mc_draws} --seed {seed}"
    about.add(Pre(
        "attachpath prepare data/sessions.csv --client client --therapist therapist \\\n"
        "    --session session --esat --out data/clients.csv\n" +
        "".join(f"attachpath fit specs/{n}.lav --data data/clients.csv --cluster therapist \\\n"
                f"    --se robust {mc} --out models/{n}\n" for n in main) +
        ("" if multilevel is None else
         f"attachpath fit specs/{multilevel[0]}.lav --data data/sessions_esat.csv \\\n"
         f"    --cluster therapist/client --se robust {mc} \\\n"
         f"    --out models/{multilevel[0]}\n") +
        "attachpath compare \\\n" +
        "".join(f"    specs/{n}.lav \\\n" for n in cmp.results) +
        f"    --data data/clients.csv --cluster therapist {mc} --out comparison\n",
        lang="bash"))
    if multilevel is not None:
        about.add(Para(join([
            code("data/sessions_esat.csv"), " holds the session rows with ESAT computed per "
            "session, as ", code('attachpath.data.esat_scores(sessions, level="session")'),
            " makes them."])))
    about.add(Para(join(["Files next to this report: ",
                         *listed([code(f) for f in _file_groups(files)]), "."])))
    doc.add(about)

    # -- data -----------------------------------------------------------------
    data = Section(Heading("Data"))
    spc = prepared.get("sessions_per_client", {})
    cpt = prepared.get("clients_per_therapist", {})
    data.add(Para(join([
        f"{prepared['rows']} session rows of {prepared['clients']} clients and "
        f"{prepared['therapists']} therapists were checked (each client with one therapist, no "
        f"session recorded twice) and aggregated to one row per client: the client mean of each "
        f"session measure ({', '.join(prepared.get('session_vars', []))}) and the client-level "
        f"measures ({', '.join(prepared.get('client_vars', []))}). Sessions per client: "
        f"{spc.get('min')}{F.EN_DASH}{spc.get('max')} (median {F.num(spc.get('median'), 0)}); "
        f"clients per therapist: {cpt.get('min')}{F.EN_DASH}{cpt.get('max')} "
        f"(median {F.num(cpt.get('median'), 0)}). ",
        "The ESAT scores are residuals of CATS-Secure on CATS-Preoccupied-Merger (",
        code("esat_anx"), ") or CATS-Avoidant-Fearful (", code("esat_avoid"),
        "), computed across client means."])))
    miss = {k: v for k, v in (prepared.get("missing_session_values") or {}).items() if v}
    if miss:
        data.add(Para("Missing session values (left out of the client means): " +
                      ", ".join(f"{k} {v}" for k, v in miss.items()) + "."))
    data.add(Para(data_sentence(first)))
    iccs = {}
    for r in main.values():
        iccs.update(r.data_info.get("icc") or {})
    icc_t = _icc_union(first, iccs)
    if icc_t is not None:
        data.add(icc_t)
    doc.add(data)

    # -- main models ----------------------------------------------------------
    mm = Section(Heading("Main models"))
    mm.add(Para(join(["The study's serial mediation model in its two versions, therapeutic "
                      "attachment as the residual score ", code("esat_anx"), " and as ",
                      code("esat_avoid"), ", and the ESAT-anx model estimated simultaneously "
                      "(CATS-Secure with CATS-Preoccupied as a covariate, ",
                      code("simultaneous_secure_anx"), "; its spec explains where the two "
                      "approaches agree). Standard errors are cluster-robust by therapist, the test statistic "
                      "is scaled (MLR), and the indirect effects have Monte Carlo CIs from "
                      f"{mc_draws} draws (seed {seed})."])))
    for n, r in main.items():
        mm.add(*model_blocks(r, n, main_figs.get(n), main_srcs.get(n), level=3, data=False,
                             anchor=f"model-{n}"))
    doc.add(mm)

    # -- the multilevel analysis ----------------------------------------------------
    if multilevel is not None:
        doc.add(multilevel_section(*multilevel, client=main.get("serial_esat_anx") or first))

    # -- comparison -----------------------------------------------------------
    cs = Section(Heading("Alternative structures"))
    cs.add(Para(join(["Six structures for the ESAT-anx version: the serial model (full "
                      "mediation), with direct ECR \u2192 IIP paths (partial), parallel "
                      "mediators, the reversed order (TDS before ESAT), and the serial model "
                      "with only the engagement or only the autonomy route. Nested pairs are "
                      "tested; the others are compared by AIC and BIC."])))
    cs.add(*comparison_blocks(cmp, cmp_figs, cmp_srcs, level=3))
    cs.add(Heading("Estimates of the alternatives", 3))
    for n, r in cmp.results.items():
        if n in main:
            cs.add(Para(join(["Model ", code(n), " is the main model above (same fit)."])))
            continue
        cs.add(*model_blocks(r, n, cmp_figs.get(n), cmp_srcs.get(n), level=4, data=False,
                             anchor=f"model-{n}"))
    doc.add(cs)

    # -- truth ----------------------------------------------------------------
    from ..datasets import example_truth
    truth = example_truth()
    ts = Section(Heading("Population values of the simulation"))
    ts.add(*truth_blocks(truth, main.get("serial_esat_anx") or first,
                         cmp.results.get("serial_esat_anx_partial")))
    doc.add(ts)

    # -- methods, warnings, provenance -------------------------------------------
    ms = Section(Heading("Corrections and warnings"))
    ms.add(Para("All models on client means were estimated the same way:"))
    ms.add(corrections(first))
    if multilevel is not None:
        ms.add(Para(join(["The multilevel model ", code(multilevel[0]), " (session rows):"])))
        ms.add(corrections(multilevel[1]))
    ws = []
    seen = set()
    extra = [(multilevel[0], multilevel[1])] if multilevel is not None else []
    for n, r in list(main.items()) + extra + list(cmp.results.items()):
        for w in r.warnings:
            if (n, w) not in seen:
                seen.add((n, w))
                ws.append(join([code(n), ": ", w]))
    ms.add(Heading("Warnings", 3))
    ms.add(*warnings_blocks(ws, empty="No model raised a warning."))
    doc.add(ms)

    pv = Section(Heading("Provenance"))
    pv.add(KeyValues([("Package versions", versions_text(first.provenance)),
                      ("Data", "data/clients.csv (made from data/sessions.csv)"),
                      ("Data file SHA-256", code(first.provenance.get("data_file_sha256") or "")),
                      ("Options", code(options_text(first.provenance.get("options", {}))))]))
    names = list(main) + [n for n in cmp.results if n not in main]
    allres = {**cmp.results, **main}
    for n in names:
        pv.add(*provenance_blocks(allres[n], n, _spec_label(n), level=3, versions=False,
                                  data_display="data/clients.csv"))
    if multilevel is not None:
        pv.add(*provenance_blocks(multilevel[1], multilevel[0], _spec_label(multilevel[0]),
                                  level=3, versions=False,
                                  data_display="data/sessions_esat.csv"))
    doc.add(pv)
    return doc


def multilevel_section(name, multi, drawn, src, *, client,
                       client_name: str = "serial_esat_anx") -> Section:
    """The study's multilevel analysis next to the client-means one: what it
    is, the ICCs at both levels, what changes, and the model itself."""
    from . import multilevel as ML
    from . import tables as T
    d = multi.data_info
    cl, th = d["cluster"], d.get("therapist") or {}
    sec = Section(Heading("Multilevel analysis: sessions in clients in therapists", id="multilevel"))
    sec.add(Para(join([
        "The main models average each client's sessions. The multilevel analysis keeps the ",
        F.integer(d["n"]), " session rows of ", F.integer(cl["n"]), " clients",
        (f" and {F.integer(th['n'])} therapists" if th else ""), " (",
        F.integer(d.get("dropped_rows", 0)), " rows with missing values left out)", ": ", code(name),
        " splits every session measure into the client's own mean (between clients, "
        "level 2) and the session's departure from it (within clients, level 1). The "
        "study's chain ECR ", "\u2192", " ESAT ", "\u2192", " TDS ", "\u2192",
        " IIP post runs between clients, where ECR and IIP live, with the client means as "
        "latent variables rather than averages of a few sessions; the session-level links "
        "ESAT ", "\u2192", " TDS run within clients. ",
        (f"Standard errors and the scaled test are corrected for the {F.integer(th['n'])} "
         f"therapists (the clients' scores summed within therapist, as Mplus's TYPE = "
         f"COMPLEX TWOLEVEL does)." if th else
         join(["Standard errors: ", T.se_phrase(multi), "."]))]), kind="lead"))
    icc = T.icc_table(multi, title="Intraclass correlations at both levels")
    if icc is not None:
        sec.add(icc)
    para = ML.icc_sentence(multi)
    if para is not None:
        sec.add(para)
    sec.add(Heading("What changes between the client-means and the multilevel analysis", 3,
                    id="multilevel-changes"))
    items = ML.shared_quantities(client, multi)
    if items:
        sec.add(ML.changes_summary(items))
        sec.add(ML.changes_table(items, client, multi, names=(client_name, name)))
    within = ML.within_summary(client, multi)
    if within is not None:
        sec.add(within)
    sec.add(*model_blocks(multi, name, drawn, src, level=3, data=False,
                          anchor=f"model-{name}",
                          figure_title=join(["Two-level path diagram of ", code(name),
                                             ": within clients above, between clients "
                                             "below"])))
    return sec


def _file_groups(files):
    out = []
    seen = set()
    for f in files:
        parts = f.split("/")
        key = f if len(parts) == 1 else parts[0] + "/"
        if key not in seen:
            seen.add(key)
            out.append(key)
    return out


def _icc_union(res, iccs):
    if not iccs:
        return None
    c = res.data_info["cluster"]
    rows = [[v, F.num(icc, 3, bounded=True), F.num(deff, 2)] for v, (icc, deff) in iccs.items()]
    note = join(["ICC(1) from a one-way ANOVA of the client scores by therapist (",
                 str(c["n"]), " therapists, ", str(c["min"]), F.EN_DASH, str(c["max"]),
                 " clients each, mean ", F.num(c["mean"], 1), "); design effect = 1 + "
                 "(mean cluster size \u2212 1) \u00d7 ICC. These are why the standard errors "
                 "are corrected for the therapists."])
    return Table(title="Intraclass correlations of the model variables by therapist",
                 header=["Variable", "ICC(1)", "Design effect"], rows=rows, note=note, align="lrr")


def truth_blocks(truth: dict, res, partial=None) -> list:
    """Population values next to the demo's estimates (where the models
    estimate the same quantity)."""
    paths = truth.get("paths", {})
    implied = truth.get("implied", {})
    slope = truth.get("esat", {}).get("cats_preoc_slope", float("nan"))
    manifest = truth.get("manifest_approx", {})

    def path(y, x):
        return paths.get(y, {}).get(x, 0.0)

    a_anx = path("cats_secure", "ecr_anx") - slope * path("cats_preoc", "ecr_anx")
    a_av = path("cats_secure", "ecr_avoid") - slope * path("cats_preoc", "ecr_avoid")
    b_ge = implied.get("tds_ge ~ esat_anx", {}).get("esat_anx", path("tds_ge", "cats_secure"))
    b_ga = path("tds_ga", "cats_secure")
    c_ge = implied.get("iip_post ~ tds_ge + iip_pre", {}).get("tds_ge", path("iip_post", "tds_ge"))
    c_ga = path("iip_post", "tds_ga")
    pre = path("iip_post", "iip_pre")
    direct = path("iip_post", "ecr_anx")

    est = res.estimates.set_index("label")
    pest = partial.estimates.set_index("label") if partial is not None else None

    def e(label, source=est):
        if source is None or label not in source.index:
            return F.DASH
        r = source.loc[label]
        if hasattr(r, "iloc") and getattr(r, "ndim", 1) > 1:
            r = r.iloc[0]
        return f"{F.num(r['est'], 3)} {F.ci(r['ci.lower'], r['ci.upper'], 3)}"

    def e_pre():
        m = res.estimates[(res.estimates["lhs"] == "iip_post") & (res.estimates["op"] == "~")
                          & (res.estimates["rhs"] == "iip_pre")]
        if m.empty:
            return F.DASH
        r = m.iloc[0]
        return f"{F.num(r['est'], 3)} {F.ci(r['ci.lower'], r['ci.upper'], 3)}"

    def eff(name, dec=4):
        d = res.defined().set_index("lhs")
        if name not in d.index:
            return F.DASH
        r = d.loc[name]
        return f"{F.num(r['est'], dec)} {F.ci(r['ci.lower'], r['ci.upper'], dec)}"

    A = "\u2192"
    rows = [
        [f"ECR anxiety {A} ESAT-anx", code("a_anx"), F.num(a_anx, 4), F.DASH, e("a_anx")],
        [f"ECR avoidance {A} ESAT-anx", code("a_av"), F.num(a_av, 4), F.DASH, e("a_av")],
        [f"ESAT-anx {A} TDS growing engagement", code("b_ge"), F.num(b_ge, 4),
         F.num(manifest.get("b"), 4), e("b_ge")],
        [f"ESAT-anx {A} TDS growing autonomy", code("b_ga"), F.num(b_ga, 4), F.DASH, e("b_ga")],
        [f"TDS growing engagement {A} IIP post", code("c_ge"), F.num(c_ge, 4),
         F.num(manifest.get("c"), 4), e("c_ge")],
        [f"TDS growing autonomy {A} IIP post", code("c_ga"), F.num(c_ga, 4), F.DASH, e("c_ga")],
        [f"IIP pre {A} IIP post", F.DASH, F.num(pre, 4), F.DASH, e_pre()],
        [f"ECR anxiety {A} IIP post (direct)", join([code("d_anx"), " (partial model)"]),
         F.num(direct, 4), F.DASH, e("d_anx", pest)],
        Row(["Indirect effects"], group=True),
        [f"ECR anxiety {A} ESAT {A} engagement {A} IIP post", code("anx_ge"),
         F.num(a_anx * b_ge * c_ge, 4), F.DASH, eff("anx_ge")],
        [f"ECR anxiety {A} ESAT {A} autonomy {A} IIP post", code("anx_ga"),
         F.num(a_anx * b_ga * c_ga, 4), F.DASH, eff("anx_ga")],
        [f"ECR anxiety {A} CATS-Secure {A} engagement {A} IIP post", F.DASH,
         F.num(truth.get("indirect_abc"), 4), F.num(manifest.get("indirect_abc"), 4), F.DASH],
    ]
    note = join([
        "Population values in raw units, from ", code("attachpath.datasets.example_truth()"),
        " (the simulation that generated the example); the ESAT-anx paths are derived from its "
        "CATS paths (", code("a_anx"), " = ECR \u2192 CATS-Secure minus the ESAT slope \u00d7 "
        "ECR \u2192 CATS-Preoccupied; ", code("b"), " is unchanged by the residualising). "
        "Estimates: ", code("serial_esat_anx"), " (", code("d_anx"), ": ",
        code("serial_esat_anx_partial"), ") with 95% CIs. The last row is the simulation's own "
        "headline indirect effect through CATS-Secure, which these models do not estimate. ",
        "Definition (from the truth file): ", truth.get("definition", ""), " ",
        "Expected on observed means: ", manifest.get("note", "")])
    return [
        Para("The example was simulated with known population values. The estimates should "
             "come close to them, not exactly: the sample is one draw of 330 clients, and "
             "client means of a few sessions measure the latent client means with error "
             "(hence the column of values expected on observed means)."),
        Table(title="Population values and the demo's estimates",
              header=["Path", "Parameter", "Population", "Expected on observed means",
                      "Estimate [95% CI]"],
              rows=rows, note=note, align="llrrr"),
    ]
