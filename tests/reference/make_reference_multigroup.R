# make_reference_multigroup.R -- lavaan reference fixtures for multiple-group
# models (issue 16, item 3): the Holzinger-Swineford CFA by school, with
# free groups and with group.equal = c("loadings", "intercepts").
#
# Usage (from the repository root):
#     Rscript tests/reference/make_reference_multigroup.R
#
# Writes tests/reference/multigroup/*.json: parameterEstimates with lavaan's
# group column, fitMeasures and per-group chisq.  The function definitions
# of make_reference.R are evaluated, nothing else of it runs.
# Requirements: R, lavaan 0.6-14, jsonlite.

source(file.path("tests", "reference", "reference_setup.R"))
OUT_DIR <- output_dir("multigroup")
HS <- read_data("holzinger.csv")

HS_CFA <- 'visual =~ x1 + x2 + x3
textual =~ x4 + x5 + x6
speed =~ x7 + x8 + x9
'
CASES <- list(
  hs_school_free = list(args = list()),
  hs_school_loadings_intercepts = list(args = list(group.equal = c("loadings",
                                                                   "intercepts"))),
  hs_school_partial = list(args = list(group.equal = c("loadings", "intercepts"),
                                       group.partial = c("visual=~x2", "x7~1"))),
  hs_school_loadings_intercepts_mlr = list(args = list(
    group.equal = c("loadings", "intercepts"), estimator = "MLR"))
)
FITS <- list()

for (name in names(CASES)) {
  cs <- CASES[[name]]
  cat(sprintf("%-32s", name))
  fit <- do.call("cfa", c(list(model = HS_CFA, data = HS, group = "school"), cs$args))
  stopifnot(lavInspect(fit, "converged"))
  pe <- parameterEstimates(fit, remove.nonfree = FALSE, remove.eq = FALSE)
  pt <- parTable(fit)
  cols <- c("lhs", "op", "rhs", "group", "label", "est", "se", "z", "pvalue")
  est <- data.frame(row.names = seq_len(nrow(pe)))
  for (k in cols) est[[k]] <- pe[[k]]
  key_pe <- paste(pe$lhs, pe$op, pe$rhs, pe$group)
  key_pt <- paste(pt$lhs, pt$op, pt$rhs, pt$group)
  est$free <- as.integer(pt$free[match(key_pe, key_pt)])
  obj <- list(case = name, lavaan_version = LAVAAN_VERSION, model = HS_CFA,
              data = "data/holzinger.csv", group = "school",
              group_labels = I(lavInspect(fit, "group.label")),
              call = c(list(`function` = "cfa"), cs$args),
              nobs = I(lavInspect(fit, "nobs")), npar = lavInspect(fit, "npar"),
              estimates = rows_to_list(est),
              fit = named_list(fitMeasures(fit)),
              chisq_group = I(unname(lavInspect(fit, "test")$standard$stat.group)))
  FITS[[name]] <- fit
  if (name == "hs_school_loadings_intercepts") {
    # the nested test of equal loadings and intercepts against free groups
    lrt <- lavTestLRT(FITS$hs_school_free, fit)
    obj$lrt <- list(chisq_diff = lrt[["Chisq diff"]][2], df_diff = lrt[["Df diff"]][2],
                    pvalue = lrt[["Pr(>Chisq)"]][2])
  }
  write_json_file(obj, file.path(OUT_DIR, paste0(name, ".json")))
  cat(sprintf("ok  chisq=%.4f df=%d npar=%d\n", fitMeasures(fit, "chisq"),
              as.integer(fitMeasures(fit, "df")), lavInspect(fit, "npar")))
}
