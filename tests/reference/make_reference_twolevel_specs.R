# lavaan 0.6-14 fits of the study's two-level specs (specs/twolevel_*.lav) on
# the bundled example sessions with session-level ESAT scores
# (tests/reference/data/example_sessions_esat.csv, written by
# attachpath.data.esat_scores(load_example(), level = "session")).
# ESAT is a covariate at level 1 and an outcome at level 2, so fixed.x = FALSE
# (attachpath frees such a variable's moments).  ML, model-based SEs.
#   Rscript tests/reference/make_reference_twolevel_specs.R   (from the repo root)
suppressMessages({library(lavaan); library(jsonlite)})
d <- read.csv("tests/reference/data/example_sessions_esat.csv")
out <- list()
for (name in sub("[.]lav$", "", list.files("specs", "^twolevel_.*[.]lav$"))) {
  m <- paste(readLines(sprintf("specs/%s.lav", name)), collapse = "\n")
  f <- sem(m, data = d, cluster = "client", fixed.x = FALSE)
  pe <- parameterEstimates(f)
  out[[name]] <- list(
    lavaan_version = as.character(packageVersion("lavaan")),
    converged = lavInspect(f, "converged"),
    fit = as.list(fitMeasures(f, c("chisq", "df", "logl"))),
    nclusters = lavInspect(f, "nclusters"),
    estimates = pe[pe$op %in% c("~", ":="), c("lhs", "op", "rhs", "block", "est", "se")])
}
writeLines(toJSON(out, digits = NA, auto_unbox = TRUE, pretty = TRUE),
           "tests/reference/twolevel/specs_twolevel_example.json")
