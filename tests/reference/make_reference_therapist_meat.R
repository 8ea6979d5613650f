# Issue 13 check (b): the therapist meat recomputed in R from lavaan's own
# clusterwise two-level scores, for tests/estimate/test_threelevel_therapist_meat.py.
#
#   Rscript tests/reference/make_reference_therapist_meat.R      (from the repository root)
#
# Writes tests/reference/data/threelevel_sessions.csv (simulated here: sessions
# in clients in therapists, with therapist variance in the client-level
# outcomes) and tests/reference/threelevel/therapist_meat.json.
# Recipe (shared/notes/multilevel.md §2): lavaan 0.6-14 fits the two-level
# MLR model (sessions in clients); its per-client scores are
#   s_j = -0.5 * lav_mvnorm_cluster_scores_2l(...) %*% computeDelta(fit@Model)[[1]]
# (lavScores has no multilevel branch in 0.6-14).  They are summed by therapist,
# S_t = sum_{j in t} s_j, and the therapist meat is sum_t S_t S_t'.  In the
# per-client units of lavaan's bread A = lavInspect(fit, "information"), the
# sandwich is V = A^-1 B3 A^-1 / J with B3 = sum_t S_t S_t' / J * G/(G-1).
# The same scores summed by client reproduce lavaan's own MLR meat and vcov
# (recorded as checks).  The model has no variable that is a covariate at one
# level and an outcome at the other, so lavaan's meat zeroes nothing that Delta
# reaches (notes §1.6).  Deterministic (set.seed); JSON numbers at jsonlite's
# maximum precision (15 significant digits), matrices as {names, matrix} rows
# as in make_reference_twolevel.R.
suppressMessages({library(lavaan); library(jsonlite)})
lavint <- function(name) get(name, envir = asNamespace("lavaan"))

## ---- data: 40 therapists, 260 clients (2-14 each), 2-10 sessions per client --------
set.seed(20261202)
G <- 40L; J <- 260L
caseload <- 2L + as.vector(rmultinom(1, J - 2L * G, rgamma(G, 1)))
ther_id <- sample(100:999, G)                 # ids in no particular order
cli_id <- sample(1000:9999, J)
ther <- rep(ther_id, caseload)
u <- matrix(rnorm(3 * G), G) %*% diag(c(0.20, 0.18, 0.15))   # therapist intercepts
ut <- u[rep(seq_len(G), caseload), ]
ecr <- rnorm(J, 3.9, 1.2)
cats_b <- 4.3 - 0.20 * (ecr - 3.9) + rnorm(J, 0, 0.50) + ut[, 1]
tds_b <- 3.2 + 0.35 * (cats_b - 4.3) + rnorm(J, 0, 0.45) + ut[, 2]
iip <- 1.3 - 0.25 * (tds_b - 3.2) + 0.1 * (cats_b - 4.3) + rnorm(J, 0, 0.40) + ut[, 3]
n_s <- sample(2:10, J, replace = TRUE)
j <- rep(seq_len(J), n_s)
cats_w <- rnorm(length(j), 0, 0.40)
d <- data.frame(therapist = ther[j], client = cli_id[j],
                cats_secure = round(cats_b[j] + cats_w, 6),
                tds_ge = round(tds_b[j] + 0.3 * cats_w + rnorm(length(j), 0, 0.40), 6),
                ecr_anx = round(ecr[j], 6), iip_post = round(iip[j], 6))
d <- d[sample(nrow(d)), ]                      # rows in no particular order
cm <- ave(d$cats_secure, d$client)
d$cats_secure_b <- round(cm, 6)
d$cats_secure_w <- round(d$cats_secure - cm, 6)
data_file <- "tests/reference/data/threelevel_sessions.csv"
write.csv(d, data_file, row.names = FALSE)
d <- read.csv(data_file)                       # fit what the tests read

## ---- lavaan's two-level MLR fit and its per-client scores ------------------------
model <- '
level: 1
  tds_ge ~ bw*cats_secure_w
level: 2
  cats_secure_b ~ a*ecr_anx
  tds_ge ~ b*cats_secure_b + ecr_anx
  iip_post ~ c*tds_ge + cats_secure_b
  abc := a*b*c
'
fit <- sem(model, data = d, cluster = "client", estimator = "MLR")
stopifnot(lavInspect(fit, "converged"))
Lp <- fit@Data@Lp[[1]]
imp <- fit@implied
S2 <- lavint("lav_mvnorm_cluster_scores_2l")(
  Y1 = fit@Data@X[[1]], YLp = fit@SampleStats@YLp[[1]], Lp = Lp,
  Mu.W = imp$mean[[1]], Sigma.W = imp$cov[[1]], Mu.B = imp$mean[[2]], Sigma.B = imp$cov[[2]])
s <- -0.5 * S2 %*% lavint("computeDelta")(lavmodel = fit@Model)[[1]]
stopifnot(nrow(s) == J)
A <- lavInspect(fit, "information")            # per-client units: ML vcov = A^-1 / J
Ainv <- solve(A)
V_lav <- unclass(lavInspect(fit, "vcov"))
meat_client <- crossprod(s) / J                # lavaan's own MLR meat, from the same scores
V_client <- Ainv %*% meat_client %*% Ainv / J
relmax <- function(x, y) max(abs(x - y)) / max(abs(y))

## ---- summed by therapist ---------------------------------------------------------
client_ther <- tapply(d$therapist, d$client, function(t) { stopifnot(length(unique(t)) == 1L); t[1] })
t_of_j <- client_ther[as.character(Lp$cluster.id[[2]])]   # lavaan's cluster order
St <- rowsum(s, t_of_j, reorder = TRUE)
stopifnot(nrow(St) == G)
meat_sum <- crossprod(St)                      # sum_t S_t S_t'
B3 <- meat_sum / J * G / (G - 1)
V3 <- Ainv %*% B3 %*% Ainv / J
x <- lavint("lav_model_get_parameters")(fit@Model)
Jd <- lavint("lav_func_jacobian_complex")(func = fit@Model@def.function, x = x)

nm <- colnames(V_lav)
as_mat <- function(m) list(names = nm, matrix = unname(unclass(m)))
pt <- parTable(fit)
out <- list(
  case = "therapist_meat", lavaan_version = as.character(packageVersion("lavaan")),
  model = model, data = "data/threelevel_sessions.csv",
  call = "sem(model, data, cluster = 'client', estimator = 'MLR')",
  recipe = c("s_j = -0.5 * lav_mvnorm_cluster_scores_2l(Y1, YLp, Lp, Mu.W, Sigma.W, Mu.B, Sigma.B) %*% computeDelta(fit@Model)[[1]]",
             "S_t = rowsum(s_j, therapist); meat_therapist_sum = sum_t S_t S_t'",
             "meat_therapist = meat_therapist_sum / J * G/(G-1); A = lavInspect(fit, 'information')",
             "vcov_therapist = A^-1 meat_therapist A^-1 / J; := SEs by the delta method (lav_func_jacobian_complex)"),
  estimates_at = "lavaan's estimates (not polished)",
  nsessions = nrow(d), nclients = J, ntherapists = G,
  check_client_meat_vs_information_first_order_relmax =
    relmax(meat_client, unclass(lavInspect(fit, "information.first.order"))),
  check_client_vcov_vs_lavaan_relmax = relmax(V_client, V_lav),
  parTable = pt[, c("lhs", "op", "rhs", "block", "free", "exo", "label", "est")],
  information = as_mat(A),
  meat_therapist_sum = as_mat(meat_sum),
  meat_therapist = as_mat(B3),
  vcov_therapist = as_mat(V3),
  vcov_lavaan_mlr = as_mat(V_lav),
  defined = list(names = I(pt$lhs[pt$op == ":="]), est = I(as.numeric(fit@Model@def.function(x))),
                 se_therapist = I(sqrt(diag(Jd %*% V3 %*% t(Jd))))))
writeLines(toJSON(out, digits = NA, auto_unbox = TRUE, pretty = TRUE),
           "tests/reference/threelevel/therapist_meat.json")
cat(sprintf("client recipe vs lavaan: meat %.1e, vcov %.1e; therapist/client SE ratio %.2f-%.2f\n",
            out$check_client_meat_vs_information_first_order_relmax,
            out$check_client_vcov_vs_lavaan_relmax,
            min(sqrt(diag(V3) / diag(V_lav))), max(sqrt(diag(V3) / diag(V_lav)))))
