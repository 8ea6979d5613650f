# lavaan's two-level MLR is not invariant to the location of a within-level
# covariate: its per-cluster scores drop the within-mean term of variables
# observed at both levels (lav_mvnorm_cluster_scores_2l sets the Mu.W
# columns of "both" variables to zero), which is exact only when those
# within means do not depend on the parameters.  With a level-1 covariate x
# of non-zero mean they do (mu_W(y) = lambda * beta * mean(x)), and lavaan's
# MLR standard errors change when x is shifted: on sim_twolevel.csv the SE of
# fw ~ x is 0.02968 as is, 0.07925 with x + 5 and 0.02964 with x centred.
# The centred fit is the reference that is right (the dropped term is zero);
# attachpath's SEs are the same at every location.
#
# Run from the repository root: Rscript tests/reference/make_reference_twolevel_location.R
suppressMessages({library(lavaan); library(jsonlite)})
d <- read.csv("tests/reference/data/sim_twolevel.csv")
d$x <- d$x - mean(d$x)
write.csv(d, "tests/reference/data/sim_twolevel_xcentred.csv", row.names = FALSE)
model <- '
level: within
  fw =~ y1 + y2 + y3 + y4
  fw ~ x
level: between
  fb =~ y1 + y2 + y3 + y4
  fb ~ g*w
'
fit <- sem(model, data = d, cluster = "cluster", estimator = "MLR")
pe <- parameterEstimates(fit)
out <- list(case = "sim_twolevel_cfa_mlr_xcentred", lavaan_version = as.character(packageVersion("lavaan")),
            model = model, data = "data/sim_twolevel_xcentred.csv",
            call = list(`function` = "sem", cluster = "cluster", estimator = "MLR"),
            parameterEstimates = pe[, c("lhs", "op", "rhs", "block", "label", "est", "se")],
            fitMeasures = as.list(fitMeasures(fit)))
writeLines(toJSON(out, digits = NA, auto_unbox = TRUE, pretty = TRUE),
           "tests/reference/twolevel/sim_twolevel_cfa_mlr_xcentred.json")
