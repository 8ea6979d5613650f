# make_reference_multigroup_c.R -- lavaan reference fixtures for lavaan's c()
# modifiers in multiple-group models, := over groups' labels, MLR with
# groups and cluster-robust SEs within groups (issue 16, item 3).
#
# Usage (from the repository root):
#     Rscript tests/reference/make_reference_multigroup_c.R
#
# Writes tests/reference/multigroup/*.json (the layout of
# make_reference_multigroup.R): parameterEstimates with lavaan's group column
# (:= rows in group 0), fitMeasures and per-group chisq.  The function
# definitions of make_reference.R are evaluated, nothing else of it runs.
# Requirements: R, lavaan 0.6-14, jsonlite.

source(file.path("tests", "reference", "reference_setup.R"))
OUT_DIR <- output_dir("multigroup")

# A mediation chain compared between female and male clients: the a and b
# paths labelled per group, the indirect effects and their difference by :=
MEDIATION <- 'esat_anx ~ c(a1, a2)*ecr_anx
tds_ge ~ c(b1, b2)*esat_anx
iip_post ~ tds_ge + iip_pre
ab1 := a1*b1
ab2 := a2*b2
diff := ab1 - ab2
'
# the same with the a path equal across groups (one shared label) and the
# effect of iip_pre fixed in the first group only
MEDIATION_EQUAL <- 'esat_anx ~ c(a, a)*ecr_anx
tds_ge ~ c(b1, b2)*esat_anx
iip_post ~ tds_ge + c(0.3, NA)*iip_pre
ab1 := a*b1
ab2 := a*b2
diff := ab1 - ab2
'
# the a path equal across groups (for the nested test against MEDIATION)
MEDIATION_A_EQUAL <- sub("c(a1, a2)*ecr_anx", "c(a, a)*ecr_anx", MEDIATION, fixed = TRUE)
MEDIATION_A_EQUAL <- gsub("a1\\*|a2\\*", "a*", MEDIATION_A_EQUAL)
HS_C <- 'visual =~ x1 + c(v2a, v2b)*x2 + c(v3, v3)*x3
textual =~ x4 + c(1, NA)*x5 + x6
speed =~ x7 + x8 + x9
d2 := v2a - v2b
'
CLIENTS <- "example_clients.csv"
CASES <- list(
  med_female_labels = list(model = MEDIATION, data = CLIENTS, group = "female",
                           args = list()),
  med_female_equal = list(model = MEDIATION_EQUAL, data = CLIENTS, group = "female",
                          args = list()),
  med_female_mlr = list(model = MEDIATION, data = CLIENTS, group = "female",
                        args = list(estimator = "MLR")),
  # estimator = "MLR" as in make_reference.R's MLR_CL: cluster= alone asks
  # for two tests and then takes the "h1" observed information for them
  med_female_cluster = list(model = MEDIATION, data = CLIENTS, group = "female",
                            args = list(cluster = "therapist", estimator = "MLR")),
  med_female_a_equal_cluster = list(model = MEDIATION_A_EQUAL, data = CLIENTS,
                                    group = "female",
                                    args = list(cluster = "therapist", estimator = "MLR"),
                                    lrt_against = "med_female_cluster"),
  hs_school_c = list(model = HS_C, data = "holzinger.csv", group = "school",
                     args = list(), fun = "cfa"),
  hs_school_free_mlr = list(model = 'visual =~ x1 + x2 + x3
textual =~ x4 + x5 + x6
speed =~ x7 + x8 + x9
', data = "holzinger.csv", group = "school", args = list(estimator = "MLR"), fun = "cfa"),
  hs_school_loadings_intercepts_mlr_c = list(model = 'visual =~ x1 + x2 + x3
textual =~ x4 + x5 + x6
speed =~ x7 + x8 + x9
', data = "holzinger.csv", group = "school", fun = "cfa",
    args = list(estimator = "MLR", group.equal = c("loadings", "intercepts")),
    lrt_against = "hs_school_free_mlr")
)
FITS <- list()

for (name in names(CASES)) {
  cs <- CASES[[name]]
  cat(sprintf("%-24s", name))
  fun <- if (is.null(cs$fun)) "sem" else cs$fun
  data <- read_data(cs$data)
  fit <- do.call(fun, c(list(model = cs$model, data = data, group = cs$group), cs$args))
  stopifnot(lavInspect(fit, "converged"))
  pe <- parameterEstimates(fit, remove.nonfree = FALSE, remove.eq = FALSE,
                           standardized = TRUE)
  pt <- parTable(fit)
  cols <- c("lhs", "op", "rhs", "group", "label", "est", "se", "z", "pvalue", "std.all")
  est <- data.frame(row.names = seq_len(nrow(pe)))
  for (k in cols) est[[k]] <- pe[[k]]
  key_pe <- paste(pe$lhs, pe$op, pe$rhs, pe$group)
  key_pt <- paste(pt$lhs, pt$op, pt$rhs, pt$group)
  est$free <- as.integer(pt$free[match(key_pe, key_pt)])
  est$free[is.na(est$free)] <- 0L
  tests <- lavInspect(fit, "test")
  obj <- list(case = name, lavaan_version = LAVAAN_VERSION, model = cs$model,
              data = file.path("data", cs$data), group = cs$group,
              group_labels = I(as.character(lavInspect(fit, "group.label"))),
              call = c(list(`function` = fun), cs$args),
              nobs = I(lavInspect(fit, "nobs")), npar = lavInspect(fit, "npar"),
              estimates = rows_to_list(est),
              fit = named_list(fitMeasures(fit)),
              chisq_group = I(unname(tests$standard$stat.group)),
              max_gradient = max(abs(lavInspect(fit, "gradient"))))
  FITS[[name]] <- fit
  if (!is.null(cs$lrt_against)) {
    # lavTestLRT's default: for MLR the Satorra-Bentler (2001) scaled difference
    lrt <- lavTestLRT(FITS[[cs$lrt_against]], fit)
    obj$lrt <- list(against = cs$lrt_against, chisq_diff = lrt[["Chisq diff"]][2],
                    df_diff = lrt[["Df diff"]][2], pvalue = lrt[["Pr(>Chisq)"]][2],
                    method = attr(lrt, "heading"))
  }
  write_json_file(obj, file.path(OUT_DIR, paste0(name, ".json")))
  cat(sprintf("ok  chisq=%.4f df=%d npar=%d\n", fitMeasures(fit, "chisq"),
              as.integer(fitMeasures(fit, "df")), lavInspect(fit, "npar")))
}
