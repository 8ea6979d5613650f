"""The report's stylesheet: system fonts only, APA tables, print-friendly."""

CSS = """\
:root {
  --ink: #1d1d1f; --muted: #5a5a60; --rule: #1d1d1f; --faint: #d9d9de;
  --accent: #1f4e79; --bg-soft: #f5f5f7; --warn: #8a4b00; --warn-bg: #fff6e5;
}
* { box-sizing: border-box; }
html { -webkit-text-size-adjust: 100%; }
body {
  margin: 0; color: var(--ink); background: #fff;
  font-family: "Iowan Old Style", "Palatino Linotype", Palatino, "Book Antiqua",
               Georgia, "Times New Roman", serif;
  font-size: 17px; line-height: 1.55;
}
main { max-width: 1120px; margin: 0 auto; padding: 2.2rem 2rem 4rem; }
header { border-bottom: 2px solid var(--rule); margin-bottom: 1.5rem; padding-bottom: .8rem; }
h1, h2, h3, h4, h5, nav, th, .kv dt, .subtitle, figcaption .fnum, .toc {
  font-family: -apple-system, BlinkMacSystemFont, "Segoe UI", "Helvetica Neue",
               "Liberation Sans", Arial, sans-serif;
}
h1 { font-size: 1.9rem; line-height: 1.2; margin: 0 0 .35rem; letter-spacing: -.01em; }
h2 { font-size: 1.45rem; margin: 2.8rem 0 .8rem; padding-bottom: .25rem;
     border-bottom: 1px solid var(--faint); }
h3 { font-size: 1.18rem; margin: 2rem 0 .6rem; }
h4 { font-size: 1.02rem; margin: 1.5rem 0 .5rem; color: var(--muted); }
h5 { font-size: .95rem; margin: 1.2rem 0 .4rem; }
p { margin: .55rem 0; max-width: 48rem; }
p.lead { font-size: 1.06rem; }
p.small, p.note { font-size: .9rem; color: var(--muted); }
.subtitle { color: var(--muted); margin: 0; font-size: .98rem; max-width: none; }
a { color: var(--accent); text-underline-offset: .22em; text-decoration-thickness: 1px; }
code, pre, .mono { font-family: "SF Mono", Menlo, Consolas, "Liberation Mono", "DejaVu Sans Mono",
                   monospace; font-size: .86em; }
code { background: var(--bg-soft); padding: .05em .3em; border-radius: 3px; }
sup { line-height: 0; font-size: .72em; }
ul { padding-left: 1.4rem; max-width: 50rem; }
li { margin: .2rem 0; }
nav.toc { background: var(--bg-soft); padding: .6rem 1.2rem .8rem; border-radius: 6px;
          margin: 1rem 0 1.5rem; font-size: .95rem; }
nav.toc h2 { font-size: 1rem; margin: .2rem 0 .3rem; border: 0; padding: 0; }
nav.toc ol { margin: 0; padding-left: 1.3rem; columns: 2; column-gap: 2rem; }
nav.toc li { margin: 0 0 .2rem; break-inside: avoid; }

/* APA tables: horizontal rules only, numbers right-aligned in tabular figures */
.table-block { margin: 1.6rem 0 1.8rem; break-inside: avoid; }
.table-block .scroll { overflow-x: auto; }
.table-block .caption { margin-bottom: .45rem; line-height: 1.35; }
.table-block .caption .tnum { display: block; font-weight: 700;
  font-family: -apple-system, BlinkMacSystemFont, "Segoe UI", "Helvetica Neue",
               "Liberation Sans", Arial, sans-serif; }
.table-block .caption .ttitle { display: block; font-style: italic; }
table.apa { border-collapse: collapse; font-size: .9rem; line-height: 1.35;
            font-variant-numeric: tabular-nums lining-nums;
            border-top: 2px solid var(--rule); border-bottom: 2px solid var(--rule); }
table.apa th, table.apa td { padding: .28rem .7rem; vertical-align: top; }
table.apa thead th { font-weight: 600; border-bottom: 1px solid var(--rule); white-space: nowrap; }
table.apa td { font-family: inherit; }
table.apa td.right, table.apa th.right { text-align: right; white-space: nowrap; }
table.apa td.center, table.apa th.center { text-align: center; white-space: nowrap; }
table.apa td.left, table.apa th.left { text-align: left; }
table.apa tr.group th { text-align: left; font-weight: 600; font-style: italic;
                        padding-top: .6rem; border-top: 1px solid var(--faint); }
table.apa tbody tr:first-child.group th { border-top: 0; }
table.apa td .ci { color: var(--muted); font-size: .92em; }
table.apa th em, table.apa td em { font-family: inherit; }
.table-note, .figure-note { font-size: .84rem; color: var(--muted); margin: .4rem 0 0;
                            max-width: 60rem; }

/* figures */
figure.diagram { margin: 1.6rem 0 2rem; break-inside: avoid; }
figure.diagram figcaption { margin-bottom: .5rem; }
figure.diagram figcaption .fnum { display: block; font-weight: 700; }
figure.diagram figcaption .ftitle { display: block; font-style: italic; }
.svg-wrap { border: 1px solid var(--faint); border-radius: 6px; padding: .8rem;
            background: #fff; text-align: center; }
.svg-wrap svg { max-width: 100%; height: auto; }
.missing { color: var(--muted); font-style: italic; }
.figure-grid { display: grid; grid-template-columns: 1fr;
               gap: 0 1.6rem; }
.figure-grid figure.diagram { margin: 1rem 0; }
.figure-grid .svg-wrap svg { width: 100%; height: auto; }

/* definition lists (provenance, settings) */
dl.kv { display: grid; grid-template-columns: max-content 1fr; gap: .25rem 1.2rem;
        font-size: .92rem; margin: .8rem 0; }
dl.kv dt { color: var(--muted); font-size: .88rem; }
dl.kv dd { margin: 0; overflow-wrap: anywhere; }

.pre { margin: 1rem 0; break-inside: avoid; }
.pre-caption { font-size: .9rem; color: var(--muted); margin: 0 0 .3rem; }
pre { background: var(--bg-soft); border: 1px solid var(--faint); border-radius: 6px;
      padding: .75rem 1rem; overflow-x: auto; line-height: 1.4; white-space: pre-wrap;
      overflow-wrap: anywhere; }
ul.warnings li { color: var(--warn); }

@media (max-width: 700px) {
  main { padding: 1.2rem .9rem 3rem; }
  body { font-size: 16px; }
  nav.toc ol { columns: 1; }
  .figure-grid { grid-template-columns: 1fr; }
}

@media print {
  @page { size: A4; margin: 18mm 16mm; }
  body { font-size: 10.5pt; }
  main { max-width: none; padding: 0; }
  nav.toc { display: none; }
  a { color: inherit; text-decoration: none; }
  h2 { break-before: page; border-bottom-color: #999; }
  header + h2, nav + h2 { break-before: avoid; }
  h2, h3, h4, .caption { break-after: avoid; }
  .table-block { break-inside: auto; }
  .table-block .scroll { overflow: visible; }
  table.apa tr { break-inside: avoid; }
  table.apa thead { display: table-header-group; }
  .table-note { break-before: avoid; }
  table.apa { font-size: 8.6pt; }
  .svg-wrap { border: 0; padding: 0; }
  pre { white-space: pre-wrap; background: none; }
  .figure-grid { display: block; }
}
"""
