# Auxiliary variables under FIML (issue 14, item 5): the saturated-correlates
# model of Graham (2003) written by hand in lavaan 0.6-14, with the baseline
# model adjusted so that CFI/TLI are not inflated (the auxiliaries correlate
# with every variable and each other in the baseline too).
#
#   Rscript tests/reference/make_reference_fiml_auxiliary.R   (from the repo root)
#
# Writes data/clients_missing_aux.csv (clients_missing.csv plus two seeded
# auxiliaries, 10% of their cells missing) and twolevel/fiml_auxiliary_ml.json.
# The tests refit with attachpath's auxiliary= option (no R needed).
suppressMessages({library(lavaan); library(jsonlite)})
stopifnot(as.character(packageVersion("lavaan")) == "0.6.14")

d <- read.csv("tests/reference/data/clients_missing.csv")
set.seed(20241204)
n <- nrow(d)
z <- function(v) (v - mean(v, na.rm = TRUE)) / sd(v, na.rm = TRUE)
fill <- function(v) ifelse(is.na(v), 0, v)
# auxiliaries related to the outcome and to engagement (observed where those
# are missing too: that is what makes them useful)
d$aux_iip_pre <- round(0.7 * fill(z(d$iip_post)) + rnorm(n, sd = 0.7), 4)
d$aux_sessions <- round(0.5 * fill(z(d$tds_ge)) + 0.3 * d$aux_iip_pre + rnorm(n, sd = 0.8), 4)
d$aux_iip_pre[runif(n) < 0.10] <- NA
d$aux_sessions[runif(n) < 0.10] <- NA
write.csv(d, "tests/reference/data/clients_missing_aux.csv", row.names = FALSE, na = "")

model <- '
cats_secure ~ a*ecr_anx
tds_ge ~ b*cats_secure
iip_post ~ c*tds_ge + cats_secure
abc := a*b*c
'
obs <- c("cats_secure", "tds_ge", "iip_post", "ecr_anx")
aux <- c("aux_iip_pre", "aux_sessions")
# Graham (2003): each auxiliary with every observed variable of the model
# (exogenous ones, and the residuals of endogenous ones) and with each other
correlates <- c(sprintf("%s ~~ %s", rep(aux, each = length(obs)), obs),
                "aux_iip_pre ~~ aux_sessions")
hand <- paste(model, paste(correlates, collapse = "\n"), sep = "\n")
fit <- sem(hand, d, missing = "ml")

# baseline: variances and means of every variable, plus the same correlates
all_vars <- c(obs, aux)
baseline <- paste(c(sprintf("%s ~~ %s", all_vars, all_vars), sprintf("%s ~ 1", all_vars),
                    correlates), collapse = "\n")
fit_b <- sem(baseline, d, missing = "ml")
fm <- fitMeasures(fit, c("npar", "df", "chisq", "pvalue", "baseline.chisq", "baseline.df",
                         "cfi", "tli", "rmsea", "logl", "unrestricted.logl", "aic", "bic",
                         "ntotal", "srmr"),
                  baseline.model = fit_b)
fm_default <- fitMeasures(fit, c("cfi", "tli", "baseline.chisq", "baseline.df"))
pe <- parameterEstimates(fit)[, c("lhs", "op", "rhs", "label", "est", "se")]
out <- list(
  description = paste("clients_missing.csv with two seeded auxiliaries (seed 20241204);",
                      "missing = 'ml'; Graham's saturated correlates written by hand;",
                      "fitMeasures with the baseline model adjusted for them"),
  model = model, auxiliary = aux, lavaan_model = hand, baseline_model = baseline,
  data = "data/clients_missing_aux.csv",
  lavaan_version = as.character(packageVersion("lavaan")),
  converged = lavInspect(fit, "converged"),
  parameterEstimates = pe, fitMeasures = as.list(fm),
  fitMeasures_default_baseline = as.list(fm_default))
writeLines(toJSON(out, auto_unbox = TRUE, digits = NA, pretty = TRUE),
           "tests/reference/twolevel/fiml_auxiliary_ml.json")
cat("wrote tests/reference/twolevel/fiml_auxiliary_ml.json\n")
print(fm)
print(fm_default)
