# make_reference_inequality.R -- lavaan reference fixtures for inequality
# constraints (issue 16, item 2): `a > 0`, `a < b` written in the model, one
# case where every constraint is inactive at the solution and cases where
# one is active (lavaan's nlminb.constr; at an active constraint lavaan's
# SEs come from the information augmented with the constraint's Jacobian).
#
# Usage (from the repository root):
#     Rscript tests/reference/make_reference_inequality.R
#
# Writes tests/reference/inequality/*.json in the layout of
# make_reference.R's case_json.  The function definitions of
# make_reference.R are evaluated, nothing else of it runs.  Requirements: R,
# lavaan 0.6-14, jsonlite.

source(file.path("tests", "reference", "reference_setup.R"))
OUT_DIR <- output_dir("inequality")
DATA <- list(holzinger = read_data("holzinger.csv"),
             clients_a = read_data("clients_a.csv"))

HS <- 'visual =~ x1 + a*x2 + b*x3
textual =~ x4 + x5 + x6
speed =~ x7 + x8 + x9
x2 ~~ v*x2
'
CASES <- list(
  # a = 0.55, b = 0.73, v = 1.13 at the unconstrained solution: all inactive
  hs_ineq_inactive = list(model = paste0(HS, 'a > 0\na < b\nv > 0.5\n'),
                          data = "holzinger", args = list()),
  # a lower bound on a variance above its unconstrained estimate: active
  hs_ineq_active_bound = list(model = paste0(HS, 'v > 1.5\n'),
                              data = "holzinger", args = list()),
  # an order between two loadings that the data reverse: active, a = b
  hs_ineq_active_order = list(model = paste0(HS, 'a > b\n'),
                              data = "holzinger", args = list()),
  hs_ineq_active_order_mlr = list(model = paste0(HS, 'a > b\n'),
                                  data = "holzinger", args = list(estimator = "MLR"))
)

for (name in names(CASES)) {
  cs <- CASES[[name]]
  cat(sprintf("%-28s", name))
  res <- fit_model("sem", cs$model, cs$data, cs$args)
  fit <- res$value
  stopifnot(lavInspect(fit, "converged"))
  obj <- case_json(name, fit, cs$model, cs$data, "sem", cs$args, res$warnings)
  write_json_file(obj, file.path(OUT_DIR, paste0(name, ".json")))
  cat(sprintf("ok  chisq=%.4f df=%d npar=%d\n", fitMeasures(fit, "chisq"),
              as.integer(fitMeasures(fit, "df")), lavInspect(fit, "npar")))
}
