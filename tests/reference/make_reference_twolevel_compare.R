# Nested two-level models compared in lavaan 0.6-14 (lavTestLRT), for
# tests/estimate/test_twolevel_compare.py.  The models avoid a variable that
# is a covariate at one level and an outcome at the other (the note's §1.6).
# Run from the repository root: Rscript tests/reference/make_reference_twolevel_compare.R
suppressMessages({library(lavaan); library(jsonlite)})
d <- read.csv("tests/reference/data/study_sessions_centred.csv")
full <- '
level: 1
  tds_ge ~ bw*cats_secure_w
level: 2
  cats_secure_b ~ a*ecr_anx
  tds_ge ~ b*cats_secure_b + ecr_anx
  iip_post ~ c*tds_ge + cats_secure_b
'
restricted <- sub("tds_ge ~ b*cats_secure_b + ecr_anx", "tds_ge ~ b*cats_secure_b + 0*ecr_anx",
                  full, fixed = TRUE)
out <- list(models = list(full = full, restricted = restricted),
            data = "data/study_sessions_centred.csv", cluster = "client")
for (est in c("ML", "MLR")) {
  f1 <- sem(full, data = d, cluster = "client", estimator = est)
  f0 <- sem(restricted, data = d, cluster = "client", estimator = est)
  t <- lavTestLRT(f0, f1)
  out[[est]] <- list(chisq_diff = t[["Chisq diff"]][2], df_diff = t[["Df diff"]][2],
                     pvalue = t[["Pr(>Chisq)"]][2],
                     aic = c(full = AIC(f1), restricted = AIC(f0)),
                     bic = c(full = BIC(f1), restricted = BIC(f0)))
}
writeLines(toJSON(out, digits = NA, auto_unbox = TRUE, pretty = TRUE),
           "tests/reference/twolevel/compare_twolevel.json")
