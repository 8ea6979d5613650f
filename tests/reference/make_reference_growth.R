# make_reference_growth.R -- lavaan reference fixtures for mean structures
# (issue 16, item 1): free latent means, fixed and equal intercepts, and
# lavaan's growth() (observed intercepts fixed at 0, latent means free).
#
# Usage (from the repository root):
#     Rscript tests/reference/make_reference_growth.R
#
# Writes tests/reference/data/tds_wide.csv (TDS goal/task agreement of the
# clients who attended sessions 1 to 4 of study_sessions.csv, one column per
# session) and tests/reference/data/demo_growth.csv (lavaan's Demo.growth),
# then tests/reference/growth/*.json in the layout of make_reference.R's
# case_json.  The function definitions of make_reference.R are evaluated,
# nothing else of it runs.  Requirements: R, lavaan 0.6-14, jsonlite.

source(file.path("tests", "reference", "reference_setup.R"))
OUT_DIR <- output_dir("growth")

# wide TDS: one row per client with sessions 1-4 all observed
make_tds_wide <- function() {
  s <- read_data("study_sessions.csv")
  s <- s[s$session <= 4, ]
  w <- reshape(s[, c("client", "session", "tds_ge")], idvar = "client",
               timevar = "session", direction = "wide", sep = "")
  names(w) <- sub("tds_ge", "tds", names(w))
  client <- unique(s[, c("client", "therapist", "ecr_anx", "iip_post")])
  w <- merge(client, w, by = "client")
  w <- w[complete.cases(w), ]
  w[order(w$client), c("client", "therapist", "ecr_anx", "iip_post",
                       "tds1", "tds2", "tds3", "tds4")]
}
write_data(make_tds_wide(), "tds_wide.csv")
write_data(lavaan::Demo.growth, "demo_growth.csv")
DATA <- list(tds_wide = read_data("tds_wide.csv"),
             demo_growth = read_data("demo_growth.csv"),
             holzinger = read_data("holzinger.csv"))

TDS_LINEAR <- '
  i =~ 1*tds1 + 1*tds2 + 1*tds3 + 1*tds4
  s =~ 0*tds1 + 1*tds2 + 2*tds3 + 3*tds4
'
DEMO_LINEAR <- '
  i =~ 1*t1 + 1*t2 + 1*t3 + 1*t4
  s =~ 0*t1 + 1*t2 + 2*t3 + 3*t4
'
HS_CFA <- 'visual =~ x1 + x2 + x3
textual =~ x4 + x5 + x6
speed =~ x7 + x8 + x9
'

CASES <- list(
  tds_growth_ml = list(fun = "growth", model = TDS_LINEAR, data = "tds_wide",
                       args = list(), lr_checks = list(
    list(lhs = "tds1", op = "~~", rhs = "tds2", coef = "tds1~~tds2",
         model = paste0(TDS_LINEAR, "tds1 ~~ tds2\n")),
    list(lhs = "s", op = "=~", rhs = "tds4", coef = "s=~tds4",
         model = sub("3*tds4", "NA*tds4", TDS_LINEAR, fixed = TRUE)))),
  # attachment anxiety predicting where clients start and how fast TDS grows
  tds_growth_cov_mlr = list(fun = "growth", model = paste0(TDS_LINEAR, '
  i ~ ecr_anx
  s ~ ecr_anx
'), data = "tds_wide", args = list(estimator = "MLR")),
  demo_growth_ml = list(fun = "growth", model = DEMO_LINEAR, data = "demo_growth",
                        args = list()),
  # lavaan's tutorial model: time-invariant and time-varying covariates
  demo_growth_tvc_mlr = list(fun = "growth", model = paste0(DEMO_LINEAR, '
  i ~ x1 + x2
  s ~ x1 + x2
  t1 ~ c1
  t2 ~ c2
  t3 ~ c3
  t4 ~ c4
'), data = "demo_growth", args = list(estimator = "MLR")),
  # free latent means in sem(): a marker intercept fixed at 0 per factor
  hs_latent_means = list(fun = "sem", model = paste0(HS_CFA, '
x1 ~ 0*1
x4 ~ 0*1
x7 ~ 0*1
visual ~ 1
textual ~ 1
speed ~ 1
'), data = "holzinger", args = list()),
  # equal intercepts (a label on two) and a fixed non-zero intercept
  hs_equal_intercepts = list(fun = "sem", model = paste0(HS_CFA, '
x2 ~ b*1
x3 ~ b*1
x9 ~ 5*1
'), data = "holzinger", args = list())
)

# modificationIndices() as make_reference_language.R records them
mi_table <- function(fit) {
  mi <- modificationIndices(fit)
  cols <- c("lhs", "op", "rhs", "mi", "epc", "sepc.lv", "sepc.all", "sepc.nox")
  out <- data.frame(row.names = seq_len(nrow(mi)))
  for (k in cols) out[[k]] <- mi[[k]]
  rows_to_list(out)
}

for (name in names(CASES)) {
  cs <- CASES[[name]]
  cat(sprintf("%-24s", name))
  res <- with_warnings(do.call(cs$fun, c(list(model = cs$model, data = DATA[[cs$data]]),
                                         cs$args)))
  fit <- res$value
  stopifnot(lavInspect(fit, "converged"))
  obj <- case_json(name, fit, cs$model, cs$data, cs$fun, cs$args, res$warnings)
  obj$modindices <- mi_table(fit)
  if (!is.null(cs$lr_checks)) {
    # the chisq drop of freeing each candidate (a score test approximates it);
    # tds_growth_ml has a negative slope variance, where modificationIndices()
    # departs from these refits
    obj$lr_checks <- lapply(cs$lr_checks, function(k) {
      f1 <- do.call(cs$fun, c(list(model = k$model, data = DATA[[cs$data]]), cs$args))
      list(lhs = k$lhs, op = k$op, rhs = k$rhs,
           drop = unname(fitMeasures(fit, "chisq") - fitMeasures(f1, "chisq")),
           est = unname(coef(f1)[k$coef]))
    })
  }
  write_json_file(obj, file.path(OUT_DIR, paste0(name, ".json")))
  cat(sprintf("ok  chisq=%.4f df=%d npar=%d\n", fitMeasures(fit, "chisq"),
              as.integer(fitMeasures(fit, "df")), lavInspect(fit, "npar")))
}
