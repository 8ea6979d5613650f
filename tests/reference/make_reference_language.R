# make_reference_language.R -- lavaan reference fixtures for the model-language
# options of issue 16: free-loading factors with a fixed variance inside
# structural models, std.lv = TRUE, orthogonal = TRUE, the std.lv / std.all /
# std.nox columns with fixed rows, and modificationIndices().
#
# Usage (from the repository root):
#     Rscript tests/reference/make_reference_language.R
#
# Writes tests/reference/language/*.json.  Reads the data sets written by
# make_reference.R (tests/reference/data/) and reuses its JSON helpers: the
# function definitions of make_reference.R are evaluated, nothing else of it
# runs.  Requirements: R, lavaan 0.6-14, jsonlite.

source(file.path("tests", "reference", "reference_setup.R"))
OUT_DIR <- output_dir("language")
read_data <- function(file) read.csv(file.path(REF_DIR, "data", file),
                                     stringsAsFactors = FALSE)
DATA <- list(political_democracy = read_data("political_democracy.csv"),
             holzinger = read_data("holzinger.csv"),
             clients_a = read_data("clients_a.csv"),
             example_clients = read_data("example_clients.csv"))
LAVAAN_VERSION <- as.character(packageVersion("lavaan"))

PD_MEAS <- '
  ind60 =~ x1 + x2 + x3
  dem60 =~ y1 + y2 + y3 + y4
  dem65 =~ y5 + y6 + y7 + y8
  dem60 ~ ind60
  dem65 ~ ind60 + dem60
  y1 ~~ y5
  y2 ~~ y4 + y6
  y3 ~~ y7
  y4 ~~ y8
  y6 ~~ y8
'
HS_CFA <- 'visual =~ x1 + x2 + x3
textual =~ x4 + x5 + x6
speed =~ x7 + x8 + x9'

CASES <- list(
  # a free-loading factor with its variance fixed at 1, predicting others
  pd_na_from = list(model = '
  ind60 =~ NA*x1 + x2 + x3
  ind60 ~~ 1*ind60
  dem60 =~ y1 + y2 + y3 + y4
  dem65 =~ y5 + y6 + y7 + y8
  dem60 ~ ind60
  dem65 ~ ind60 + dem60
  y1 ~~ y5
  y2 ~~ y4 + y6
', data = "political_democracy", args = list()),
  # ... and predicted by another (its residual variance fixed at 1)
  pd_na_to = list(model = '
  ind60 =~ x1 + x2 + x3
  dem60 =~ NA*y1 + y2 + y3 + y4
  dem60 ~~ 1*dem60
  dem60 ~ ind60
', data = "political_democracy", args = list()),
  # observed variables regressed on such a factor, and the factor on a
  # covariate (semopy's start-value routine looped forever on this one)
  hs_na_observed = list(model = 'visual =~ NA*x1 + x2 + x3
visual ~~ 1*visual
x9 ~ visual
visual ~ ageyr', data = "holzinger", args = list()),
  # more free-loading idioms on Holzinger (each once made semopy loop)
  hs_na_covariate = list(model = 'F =~ NA*x1 + x2 + x3
F ~~ 1*F
F ~ ageyr
x9 ~ F + x7', data = "holzinger", args = list()),
  hs_na_two_factors = list(model = 'F =~ NA*x1 + x2 + x3
F ~~ 1*F
G =~ NA*x4 + x5 + x6
G ~~ 1*G
G ~ F
x9 ~ G', data = "holzinger", args = list()),
  hs_na_observed_between = list(model = 'F =~ NA*x1 + x2 + x3
F ~~ 1*F
G =~ NA*x4 + x5 + x6
G ~~ 1*G
x7 ~ F
G ~ x7', data = "holzinger", args = list()),
  hs_na_second_order = list(model = 'visual =~ NA*x1 + x2 + x3
textual =~ NA*x4 + x5 + x6
speed =~ NA*x7 + x8 + x9
g =~ NA*visual + textual + speed
visual ~~ 1*visual
textual ~~ 1*textual
speed ~~ 1*speed
g ~~ 1*g
x9 ~ g', data = "holzinger", args = list()),
  pd_std_lv = list(model = PD_MEAS, data = "political_democracy",
                   args = list(std.lv = TRUE)),
  hs_std_lv = list(model = HS_CFA, data = "holzinger", args = list(std.lv = TRUE)),
  hs_orthogonal = list(model = HS_CFA, data = "holzinger",
                       args = list(orthogonal = TRUE)),
  hs_std_lv_orthogonal = list(model = HS_CFA, data = "holzinger",
                              args = list(std.lv = TRUE, orthogonal = TRUE)),
  # the standardizations with observed covariates (std.nox differs)
  hs_mimic = list(model = 'visual =~ x1 + x2 + x3
textual =~ x4 + x5 + x6
visual ~ ageyr + sex
textual ~ ageyr', data = "holzinger", args = list()),
  # modification indices: the lavaan examples and a misspecified path model
  pd_sem = list(model = PD_MEAS, data = "political_democracy", args = list()),
  hs_cfa = list(model = HS_CFA, data = "holzinger", args = list()),
  serial_misspec = list(model = 'cats_secure ~ a*ecr_anx
tds_ge ~ b*cats_secure
iip_post ~ c*tds_ge + iip_pre
abc := a*b*c', data = "clients_a", args = list()),
  # a clustered fit (mean structure, MLR) of one of the study's specs
  serial_esat_cluster = list(
    model = paste(readLines(file.path(REF_DIR, "..", "..", "specs", "serial_esat_anx.lav")),
                  collapse = "\n"),
    data = "example_clients", args = list(cluster = "therapist", estimator = "MLR")),
  pd_labels = list(model = '
  ind60 =~ x1 + x2 + x3
  dem60 =~ y1 + l2*y2 + l3*y3 + l4*y4
  dem65 =~ y5 + l2*y6 + l3*y7 + l4*y8
  dem60 ~ ind60
  dem65 ~ ind60 + dem60
  y1 ~~ y5
', data = "political_democracy", args = list())
)

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
  fit <- do.call("sem", c(list(model = cs$model, data = DATA[[cs$data]]), cs$args))
  obj <- list(
    case = name, lavaan_version = LAVAAN_VERSION, model = cs$model,
    data = paste0("data/", cs$data, ".csv"),
    call = c(list(`function` = "sem"), cs$args),
    converged = lavInspect(fit, "converged"),
    nobs = lavInspect(fit, "nobs"), npar = lavInspect(fit, "npar"),
    estimates = estimates_table(fit, standardized = TRUE),
    fit = named_list(fitMeasures(fit, c("chisq", "df", "pvalue", "cfi", "rmsea",
                                        "srmr", "logl"))),
    modindices = mi_table(fit))
  write_json_file(obj, file.path(OUT_DIR, paste0(name, ".json")))
  cat(sprintf("ok  chisq=%.4f df=%d  %d modindices\n", fitMeasures(fit, "chisq"),
              as.integer(fitMeasures(fit, "df")), length(obj$modindices)))
}
